"""Sticky alerts: debounced conditions, the alert lifecycle, the outbox and ``tick``.

Entry points: ``evaluate.evaluate_scan`` (or ``wiring.evaluate_stored_scan``) in the scan's
transaction; ``actions`` for people (ack, unack, snooze, resolve, silence); ``tick.tick``
(or ``wiring.run_tick``) for timers and delivery; ``queries`` for reads and status counts.
"""
