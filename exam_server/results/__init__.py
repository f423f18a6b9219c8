"""Results after grading: the candidate's slip and its public verification, the live
scoreboard, staff exports with ranks, re-grading after a key correction and item analysis.

Grading itself (answers to points) is ``exam_server.grading.grade``; this package only reads
what grading stored, except :mod:`exam_server.results.regrade`, which runs grading again.
"""
