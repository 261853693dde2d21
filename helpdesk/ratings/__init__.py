"""Customer satisfaction (CSAT): after a ticket is resolved, the customer is asked one question,
a score from 1 to 5 with an optional comment, and the reports show the answers per agent and team.

``models``: the ``ratings`` table; ``store``: the single-use rating links and the answers;
``invitations``: the question on resolution (by e-mail, or in the live chat); ``pages``: the public
page ``/rate/{token}``.
"""
