"""Server-rendered pages: the candidate client and the committee's pages."""
