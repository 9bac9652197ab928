"""Notifiers beside Slack: PagerDuty Events v2, signed webhooks and SMTP email.

Each is one module implementing :class:`monitor.alerts.notify.Notifier` for one destination
of a ``notify:`` list; :mod:`monitor.run.notifiers` routes each outbox row to its notifier by
the row's channel (``pagerduty:oncall``, ``webhook:retrain``, ``email:team``).
"""
