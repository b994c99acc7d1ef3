"""Reputation: dashboard metrics, spike alerts and their delivery, and the standalone HTML report.

filters.py   the date range, brand, platform and bucket a view covers
metrics.py   pure computations over query results (volume, share of voice, response times)
terms.py     the terms and phrases that mark negative mentions
overview.py  runs the store's Reputation queries and feeds them to metrics.py
exports.py   CSV of the metric tables and of mentions, safe to open in a spreadsheet
spikes.py    anomaly detection against a rolling hour-of-day baseline, with a cooldown
notify.py    webhook (Slack-compatible JSON) and SMTP delivery, retried a bounded number of times
report.py    `app.py report`: one HTML file with inline SVG charts (svg.py)
jobs.py      the background check that `app.py run` starts
"""
