"""Customer feedback and the authors' list of what nothing answered.

The bot shows articles; only the customers know whether they helped. This
package closes that loop for the authors: ``POST /feedback`` records each
"solved"/"not solved" click, every ``/search`` the service could not answer is
kept, and ``helpdesk gaps`` / ``GET /admin/gaps`` turn both into a ranked list
of missing and failing articles. It stores into the handoff store's database
(same engine, same Alembic chain), so a deployment has one database to run.
"""
