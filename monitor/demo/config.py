"""The demo's config: the same YAML a user would write, with the demo's paths and dates."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.windows import isoformat_z

REFERENCE_DAYS = 4

TEMPLATE = """\
# Written by `monitor demo`. Try: monitor status -c {config}
state_db: "{state_db}"
sources:
  demo: {{url: "{source}"}}
models:
  - name: churn
    source: demo
    table: churn_predictions
    timestamp: predicted_at
    features:
      numerical: [age, income, tenure_months, support_calls]
      categorical: [plan, region]
    prediction: churn_pred
    score: churn_score
    target: {{table: churn_labels, key: prediction_id, column: churned}}
    task: binary_classification
    label_delay: 2d
    latency: latency_ms
    model_version: model_version   # a new value is recorded as a retraining
    retraining: {{every: 30d}}     # gives "next retraining" (or a cron: {{schedule: "0 3 1 * *"}})
    reference: {{between: ["{ref_start}", "{ref_end}"]}}
    window: 1d
    schedule: {{every: 1d}}
    checks:
      drift:
        severity: warning
        per_column:             # these columns may raise their own alerts
          income: {{severity: warning}}
          plan: {{severity: warning}}
      thresholds:
        - {{metric: accuracy, min: 0.83, severity: warning}}
        - {{metric: accuracy, min: 0.80, severity: critical}}
        - {{metric: latency_p99, max: 100, severity: warning}}
        - {{metric: row_count, min: 1000, severity: warning}}
  - name: eta
    source: demo
    table: eta_predictions
    timestamp: requested_at
    features:
      numerical: [distance_km, traffic_index]
      categorical: [vehicle, city]
    prediction: eta_pred_min
    target: eta_actual_min      # filled in when the ride ends
    task: regression
    label_delay: 1h
    latency: latency_ms
    segment: city               # every check also runs per city
    reference: {{previous: 7d}}   # a rolling reference: the week before each window
    window: 1d
    schedule: {{every: 1d}}
    checks:
      thresholds:
        - {{metric: mae, max: 3.0, severity: warning}}
        - {{metric: mae, max: 4.0, severity: critical}}
        - {{metric: latency_p99, max: 50, severity: warning}}
"""


def demo_yaml(*, state_db: str, source: str, start: datetime, config: str) -> str:
    return TEMPLATE.format(
        state_db=state_db,
        source=source,
        config=config,
        ref_start=isoformat_z(start),
        ref_end=isoformat_z(start + timedelta(days=REFERENCE_DAYS)),
    )
