"""Live monitoring and interventions by proctors (pause, extend, notices)."""
