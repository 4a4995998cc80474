"""Wire records → expkit.frames.versions → rollout_history / changes, end to end."""

from __future__ import annotations

import expkit
from expkit import frames


def _record(version: int, when: str, who: str, **config):
    flag_config = {
        "id": "4242",
        "key": "new-search",
        "enabled": True,
        "variants": [{"key": "off"}, {"key": "on", "payload": {"ranker": "v2"}}],
        "rolloutPercentage": 0,
        "rolloutWeights": {"off": 0, "on": 1},
        "targetSegments": [
            {
                "name": "Internal",
                "conditions": [
                    {"type": "property", "prop": "gp:team", "op": "is", "values": ["search"]}
                ],
                "percentage": 100,
                "bucketingKey": "amplitude_id",
                "rolloutWeights": {"on": 1},
            }
        ],
    }
    flag_config.update(config)
    return {"version": version, "createdAt": when, "createdBy": who, "flagConfig": flag_config}


def test_records_to_history_and_change_log():
    records = [
        _record(3, "2026-03-01T12:00:00.000Z", "bo@acme.com", rolloutPercentage=100),
        _record(1, "2026-01-10T09:30:00.000Z", "ana@acme.com"),
        _record(2, "2026-02-01T08:00:00.000Z", "ana@acme.com", rolloutPercentage=25),
    ]
    versions = frames.versions(records, kind="flag")
    history = expkit.rollout_history(versions)
    everyone = history[history["segment"] == "everyone else"]
    assert everyone["version"].tolist() == [1, 1, 2, 2, 3, 3]
    assert everyone["effective_pct"].tolist() == [0.0, 0.0, 0.0, 25.0, 0.0, 100.0]
    internal = history[history["segment"] == "Internal"]
    assert internal["segment_index"].unique().tolist() == [0]
    assert internal.loc[internal["variant_key"] == "on", "effective_pct"].tolist() == [100.0] * 3
    assert str(history["created_at"].dtype) == "datetime64[ns, UTC]"
    assert history["kind"].unique().tolist() == ["flag"]

    log = expkit.changes(versions)
    assert log[["version", "created_by", "path", "old", "new"]].astype(object).where(
        log[["version", "created_by", "path", "old", "new"]].notna(), None
    ).values.tolist() == [
        [1, "ana@acme.com", "(created)", None, None],
        [2, "ana@acme.com", "rollout_percentage", "0", "25"],
        [3, "bo@acme.com", "rollout_percentage", "25", "100"],
    ]
