"""``tkd``, the command line: ``main`` builds the parser, one module per command group.

May import any part of ``exam_server``; nothing outside ``exam_server.cli`` imports it.
"""
