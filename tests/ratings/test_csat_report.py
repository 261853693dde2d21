"""The reports' satisfaction figures on generated ratings, against SQL written here: the CSV table over HTTP,
the page's "too few responses" under 10, and the /metrics gauges; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import random
import secrets

from sqlalchemy import text

from helpdesk.db import utcnow
from helpdesk.ratings.store import RatingStore, ask
from tests.conftest import csrf_token
from tests.handoffs.conftest import SERVICE, handoff_payload

PASSWORD = "a long enough password"
METRICS_TOKEN = "test-metrics-token"
# team -> agents; "billing" gets too few responses for a share.
PLAN = {"network": {"anna": 14, "bert": 4}, "billing": {"carl": 6}}


def generate(client, rng: random.Random) -> None:
    """Tickets resolved by the plan's agents, each rated with a random score; a few asked and never answered."""
    store = client.app.state.handoffs
    ratings = RatingStore(store)
    for team, agents in PLAN.items():
        for agent, count in agents.items():
            for i in range(count + 2):
                payload = handoff_payload()
                payload["conversation_id"] = "conv-" + secrets.token_hex(6)
                ticket = client.post("/handoffs", json=payload, headers=SERVICE).json()["ticket_id"]
                with store.transaction() as s:
                    handoff = store.lock(s, ticket)
                    handoff.team, handoff.assignee, handoff.status = team, agent, "resolved"
                    token = ask(s, handoff, "email", utcnow())
                if i < count:
                    assert ratings.rate(token, rng.randint(1, 5)) == "recorded"


def test_csat_per_agent_team_and_overall_matches_sql(make_client, database_url):
    client = make_client(database_url=database_url, metrics_token=METRICS_TOKEN)
    store = client.app.state.handoffs
    store.create_agent("sue", "Sue", (), PASSWORD, "supervisor")
    generate(client, random.Random(11))
    with store.engine.connect() as conn:

        def expected(group: str) -> dict[str, tuple[int, int, float]]:
            rows = conn.execute(
                text(
                    f"SELECT {group}, COUNT(*), SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END), AVG(score * 1.0) "
                    f"FROM ratings WHERE score IS NOT NULL GROUP BY {group}"
                )
            ).all()
            return {name: (n, int(ok), float(avg)) for name, n, ok, avg in rows}

        teams, agents = expected("team"), expected("agent")
        ((total, total_ok, total_avg),) = conn.execute(
            text(
                "SELECT COUNT(*), SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END), AVG(score * 1.0) "
                "FROM ratings WHERE score IS NOT NULL"
            )
        ).all()
    assert total == 24 and teams["network"][0] == 18 and agents["bert"][0] == 4

    page = client.get("/agent/login")
    client.post("/agent/login", data={"username": "sue", "password": PASSWORD, "csrf_token": csrf_token(page.text)})
    response = client.get("/agent/reports/csat.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["group", "name", "responses", "satisfied (4-5)", "CSAT", "average score"]
    got = {(r[0], r[1]): r[2:] for r in rows[1:]}

    def check(key: tuple[str, str], n: int, ok: int, avg: float) -> None:
        responses, satisfied, share, average = got[key]
        assert int(responses) == n
        if n >= 10:
            assert int(satisfied) == ok and float(share) == round(ok / n, 4) and float(average) == round(avg, 4)
        else:
            assert (satisfied, share, average) == ("", "", "")

    check(("overall", "all"), total, int(total_ok), float(total_avg))
    for name, figures in teams.items():
        check(("team", name), *figures)
    for name, figures in agents.items():
        check(("agent", name), *figures)
    assert set(got) == {("overall", "all")} | {("team", t) for t in teams} | {("agent", a) for a in agents}

    html = client.get("/agent/reports").text
    assert 'id="t-csat"' in html and "too few responses" in html
    assert client.get("/agent/reports", params={"team": "billing"}).text.count("too few responses") >= 3
    only_billing = client.get("/agent/reports/csat.csv", params={"team": "billing"}).text
    assert "network" not in only_billing and "anna" not in only_billing

    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert f'helpdesk_csat_responses{{team="network"}} {float(teams["network"][0])}' in metrics
    assert f'helpdesk_csat_responses{{team="billing"}} {float(teams["billing"][0])}' in metrics
    average = next(line for line in metrics.splitlines() if line.startswith('helpdesk_csat_average{team="network"}'))
    assert abs(float(average.split()[-1]) - teams["network"][2]) < 1e-9
    assert 'helpdesk_csat_average{team="billing"}' not in metrics  # 6 responses: no average
