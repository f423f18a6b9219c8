"""The question bank: items, file formats, validation and per-candidate assembly.

Pure domain code: nothing here imports web, Redis or database modules, so it can be
tested and reused (the CLI, the committee's pages, a future offline tool) without servers.
"""
