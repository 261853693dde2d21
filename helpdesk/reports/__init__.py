"""Reports for supervisors and admins: figures of the bot and the desk per day or week.

One module per concern: ``activity`` (what is recorded for the reports), ``queries``
(the figures), ``charts`` (server-rendered SVG), ``pages`` (the page and CSV export),
``metrics`` (the same figures for Prometheus), ``demo`` (weeks of realistic traffic).
"""
