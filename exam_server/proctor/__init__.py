"""Live monitoring and interventions by proctors (pause, extend, notices), under
``/panitia/pengawas``.

May import: ``exam_server.db``, ``exam_server.delivery``, ``exam_server.delivery.services``,
``exam_server.web`` and ``exam_server.staff`` (audit, assignments).
"""
