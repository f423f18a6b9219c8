"""The kit every page uses: staff identity and sessions (auth, ``@page(capability)``),
rendering with the two languages and local times, and the candidate client's pages.

May import: ``exam_server.db``, ``exam_server.delivery.services``, ``exam_server.settings``,
``exam_server.delivery`` (credentials) and ``exam_server.staff`` (models, audit, passwords).
"""
