"""Sticky alerts: debounced conditions, the alert lifecycle, the outbox and ``tick``.

Entry points: ``evaluate.evaluate_scan`` (or ``wiring.evaluate_stored_scan``) in the scan's
transaction; ``actions`` for people (ack, unack, snooze, resolve, silence); ``tick.tick``
for timers and delivery (composed with staleness and retention in :mod:`monitor.run.tick`);
``queries`` for reads and status counts. Alerts record event kinds and their data; the
notifiers above this layer (``monitor.slack``) implement ``notify.Notifier`` and word them.
"""
