"""TKD-CBT exam server: web pages, WebSocket delivery, Redis checkpoints, grading, results."""
