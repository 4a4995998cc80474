"""Build the bundled demo org and record it into ``data/fixtures/demo/``.

The demo org is synthetic: 46 flags and 17 experiments of a made-up shop, with 18 months of
history ending at ``RECORDED_AT``, hand-written so that every hygiene rule of DESIGN.md has at
least one clear case (see ``SCENARIOS``) while the other configs are healthy. A third project,
``STAGING_PROJECT``, holds staging copies of a few web flags with drift from production (see
``DRIFT``), for ``expkit.compare`` and ``PromoteEdit``; its configs are healthy (no finding). The org is
served by the fake and recorded through ``expkit record``'s recorder, so the fixtures are a
recording like any other.

    python scripts/make_demo_org.py            # rewrite data/fixtures/demo/
    python scripts/make_demo_org.py --check    # exit 1 if the committed fixtures are stale
"""

from __future__ import annotations

import argparse
import filecmp
import random
import string
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from expkit.fake._record import record
from expkit.fake._server import FakeServer
from expkit.fake._state import HOLDOUT_PASS_VARIANT, FakeClock, State, iso
from expkit.fake._synth import ConfigBuilder, condition, new_config, segment

SEED = 2026
RECORDED_AT = datetime(2026, 11, 20, 9, tzinfo=UTC)
SOURCE = "synthetic demo org (scripts/make_demo_org.py)"
OUT = Path(__file__).resolve().parent.parent / "data" / "fixtures" / "demo"

WEB_PROJECT = "217854"
API_PROJECT = "217861"
WEB, IOS, ANDROID, API, LEGACY = "401120", "401121", "401122", "401130", "401101"
STAGING_PROJECT = "217870"
STAGING_WEB = "401140"
MISSING_PARENT = "999001"
XSS = "<script>alert(1)</script>"

# the drift between staging (STAGING_PROJECT) and production web (WEB_PROJECT): what kind of
# difference -> the key that shows it (the tests check each one)
DRIFT: dict[str, str] = {
    "missing in target": "checkout-express-lane",  # staging only: promote creates it in prod
    "weights": "product-page-layout",
    "payload": "refunds-self-service",
    "segment": "signup-social-login",  # a segment present only in staging
}

# rule id -> keys of the demo configs that show it (the tests check each one)
SCENARIOS: dict[str, tuple[str, ...]] = {
    "fully-rolled-out": (
        "express-pay-button",
        "search-ranking-v2",
        "checkout-address-autocomplete-exp",
    ),
    "inactive": ("black-friday-2025-banner", "android-offline-mode"),
    "no-deployment": ("referral-rewards-v2", "invoice-pdf-v2"),
    "empty-condition": ("pricing-annual-toggle",),
    "zero-percent-segment": ("autocomplete-typo-tolerance",),
    "weight-mismatch": ("cart-upsell-carousel", "onboarding-checklist-v3"),
    "dangling-dependency": ("wallet-apple-pay", "3ds-challenge-v2"),
    "inclusion-overload": ("ios-beta-program",),
    "pii-inclusion": ("support-priority-queue",),
    "long-running-experiment": ("checkout-one-page-exp",),
    "undocumented": ("tmp-test-flag", "graphql-batching", "push-digest"),
    "recent-change": ("search-filters-redesign", "welcome-tour-copy-exp"),
    "mid-experiment-change": ("checkout-payment-order-exp", "search-autosuggest-exp"),
    "expired": ("spring-sale-2026-banner",),
    "bad-tag": ("loyalty-points-beta",),
}
# the rules that need code references, scanned from the demo source tree
# (expkit/data/fixtures/demo-code) with the org's keys plus CODE_EXTRA_KEYS: keys that show
# each (archived-but-referenced: exactly these; unreferenced: every live config the tree does
# not read, these among them: android-offline-mode is also inactive, so safe to archive)
CODE_SCENARIOS: dict[str, tuple[str, ...]] = {
    "archived-but-referenced": ("legacy-coupon-banner", "search-spellcheck-exp", "wallet-v1"),
    "unreferenced": ("android-offline-mode", "tmp-test-flag", "ios-widgets"),
}
# keys of configs deleted long ago that a team still looks for in its code
CODE_EXTRA_KEYS = ("legacy-coupon-banner",)
# configs tagged expkit:snooze-until=... (a date after RECORDED_AT): no findings at all
SNOOZED = ("gift-wrap-option",)

TEAM = {
    "checkout": ("maria.garcia@example.com", "tom.oconnor@example.com"),
    "growth": ("aisha.khan@example.com", "sam.taylor@example.com"),
    "search": ("li.wei@example.com", "priya.nair@example.com"),
    "platform": ("jonas.muller@example.com", "release-bot@example.com"),
    "mobile": ("priya.nair@example.com", "jonas.muller@example.com"),
    "payments": ("tom.oconnor@example.com", "maria.garcia@example.com"),
    "onboarding": ("sam.taylor@example.com", "aisha.khan@example.com"),
}


def _on(payload: Any = None) -> list[dict[str, Any]]:
    return [{"key": "on", "name": "On", "description": "", "payload": payload}]


def _ab(*payloads: Any, keys: tuple[str, ...] = ("control", "treatment")) -> list[dict[str, Any]]:
    out = []
    for i, key in enumerate(keys):
        payload = payloads[i] if i < len(payloads) else None
        desc = "Current behaviour" if key == "control" else f"The {key} experience"
        out.append({"key": key, "name": key.title(), "description": desc, "payload": payload})
    return out


class Demo:
    """Collects the configs, groups and inclusions of the demo org."""

    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self._next_id = 512_300
        self.builders: dict[str, ConfigBuilder] = {}
        self.squads: dict[str, str] = {}
        self.inclusions: dict[str, dict[str, dict[str, list[str]]]] = {}
        self.mutexes: list[dict[str, Any]] = []
        self.holdouts: list[dict[str, Any]] = []

    def ago(self, days: float) -> datetime:
        """A working-hours time between ``days`` and ``days + 1`` days before RECORDED_AT."""
        hours = self.rng.randrange(16, 23)
        return RECORDED_AT - timedelta(days=days, hours=hours, minutes=self.rng.randrange(60))

    def new_id(self) -> str:
        self._next_id += self.rng.randrange(3, 90)
        return str(self._next_id)

    def who(self, squad: str) -> str:
        return self.rng.choice(TEAM[squad])

    def new(
        self,
        kind: str,
        key: str,
        *,
        days: float,
        squad: str,
        description: str,
        variants: list[dict[str, Any]],
        tags: list[str] | None = None,
        project: str = WEB_PROJECT,
        **fields: Any,
    ) -> ConfigBuilder:
        config = new_config(
            self.rng,
            kind,
            cid=self.new_id(),
            project_id=project,
            key=key,
            name=key.replace("-", " ").capitalize(),
            description=description,
            variants=variants,
            tags=[f"squad:{squad}", "prod"] if tags is None else tags,
        )
        config.update(fields)
        b = ConfigBuilder(kind, config, at=self.ago(days), by=self.who(squad))
        self.squads[b.id] = squad
        # a staging copy shares its key with the production config: keep both builders
        self.builders[key if project != STAGING_PROJECT else f"{project}/{key}"] = b
        return b

    def story(self, b: ConfigBuilder, events: list[tuple[float, dict[str, Any] | str]]) -> None:
        """Applies ``(days_ago, fields | "rollback")`` events in order."""
        squad = self.squads[b.id]
        for days, change in events:
            at = self.ago(days)
            if change == "rollback":
                b.rollback(at, self.who(squad))
            else:
                assert isinstance(change, dict)
                b.change(at, self.who(squad), **change)

    def rollout(
        self,
        b: ConfigBuilder,
        start: float,
        stop: float,
        *,
        deployments: list[str],
        steps: tuple[float, ...] = (5, 25, 50),
        extra: list[dict[str, Any] | str] = (),  # type: ignore[assignment]
    ) -> None:
        """Deploy, enable at ``steps[0]``, ramp through ``steps``, then ``extra`` changes,
        evenly spread from ``start`` to ``stop`` days ago."""
        events: list[dict[str, Any] | str] = [
            {"deployments": deployments},
            {"enabled": True, "rolloutPercentage": steps[0]},
            *({"rolloutPercentage": s} for s in steps[1:]),
            *extra,
        ]
        n = len(events)
        span = [start - (start - stop) * i / max(n - 1, 1) for i in range(n)]
        self.story(b, list(zip(span, events, strict=True)))

    def users(self, b: ConfigBuilder, variant: str, users: list[str], cohorts=()) -> None:
        self.inclusions.setdefault(b.id, {})[variant] = {
            "users": list(users),
            "cohorts": list(cohorts),
        }

    def token(self, n: int) -> str:
        return "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def _segments_all_ops(keys: list[str]) -> list[list[dict[str, Any]]]:
    """Healthy segments that together use all 14 condition ops (incl. set ops, gp: props)."""
    w = {k: 1 for k in keys}
    return [
        [
            segment(
                "Internal users",
                [condition("glob match", "gp:email_domain", ["*.example.com"])],
                w,
            ),
            segment(
                "US & Canada",
                [condition("is", "country", ["United States", "Canada"])],
                w,
                percentage=50,
            ),
        ],
        [
            segment(
                "Pro accounts",
                [
                    condition("set contains", "gp:entitlements", ["pro"]),
                    condition("set does not contain", "gp:entitlements", ["legacy-billing"]),
                ],
                w,
            )
        ],
        [
            segment(
                "Engaged mobile users",
                [
                    condition("greater or equal", "gp:sessions_30d", ["10"]),
                    condition("is not", "platform", ["Web"]),
                    condition("glob does not match", "device_model", ["*Emulator*"]),
                ],
                w,
                percentage=25,
            )
        ],
        [
            segment(
                "New small teams",
                [
                    condition("less", "gp:account_age_days", ["30"]),
                    condition("less or equal", "gp:seats", ["5"]),
                    condition("set is not", "gp:roles", ["guest"]),
                ],
                w,
            )
        ],
        [
            segment(
                "Big spenders",
                [
                    condition("greater", "gp:lifetime_value", ["500"]),
                    condition("contains", "gp:company", ["Inc"]),
                    condition("does not contain", "gp:plan", ["trial"]),
                    condition("set is", "gp:regions", ["eu", "us"]),
                ],
                w,
                percentage=50,
            )
        ],
    ]


def build_demo_org() -> dict[str, Any]:
    """The demo org dict (CONTRACT.md format); the same on every call."""
    d = Demo()
    deployments = [
        {"id": LEGACY, "projectId": WEB_PROJECT, "label": "legacy-web", "deleted": True},
        {"id": WEB, "projectId": WEB_PROJECT, "label": "web-prod", "deleted": False},
        {"id": IOS, "projectId": WEB_PROJECT, "label": "ios-prod", "deleted": False},
        {"id": ANDROID, "projectId": WEB_PROJECT, "label": "android-prod", "deleted": False},
        {"id": API, "projectId": API_PROJECT, "label": "api-server", "deleted": False},
    ]
    for dep in deployments:
        kind = "server" if dep["id"] == API else "client"
        dep["key"] = f"{kind}-{d.token(32)}"

    seg_sets = _segments_all_ops(["on"])

    # ---- archived configs first (oldest), one of them the parent of a dangling dependency
    wallet_v1 = d.new(
        "flags",
        "wallet-v1",
        days=520,
        squad="payments",
        description="First wallet integration; replaced by wallet-v2.",
        variants=_on(),
    )
    d.rollout(wallet_v1, 515, 380, deployments=[WEB], steps=(10, 50, 100))
    d.story(wallet_v1, [(200, {"enabled": False}), (150, {"archived": True})])

    old_exp = d.new(
        "experiments",
        "cart-drawer-exp",
        days=470,
        squad="checkout",
        description="Slide-in cart drawer vs cart page.",
        variants=_ab(None, {"drawer": True}),
    )
    d.story(
        old_exp,
        [
            (
                468,
                {
                    "targetSegments": [
                        segment(
                            "Everyone",
                            [condition("is not", "country", ["Antarctica"])],
                            {"control": 1, "treatment": 1},
                        )
                    ]
                },
            ),
            (466, {"deployments": [WEB]}),
            (
                460,
                {
                    "enabled": True,
                    "startDate": d.ago(460).strftime("%Y-%m-%d"),
                    "rolloutPercentage": 100,
                },
            ),
            (
                400,
                {
                    "decision": "rollback",
                    "decisionReason": "Drawer hurt add-to-cart by 2.1%.",
                    "rolledOutVariant": "control",
                    "endDate": d.ago(400).strftime("%Y-%m-%d"),
                },
            ),
            (395, {"enabled": False}),
            (330, {"archived": True}),
        ],
    )
    old_exp2 = d.new(
        "experiments",
        "search-spellcheck-exp",
        days=430,
        squad="search",
        description="Server-side spellcheck on empty results.",
        variants=_ab(None, "spellcheck"),
    )
    d.story(
        old_exp2,
        [
            (428, {"deployments": [API]}),
            (
                425,
                {
                    "enabled": True,
                    "startDate": d.ago(425).strftime("%Y-%m-%d"),
                    "rolloutPercentage": 100,
                },
            ),
            (
                380,
                {
                    "decision": "rollout",
                    "decisionReason": "+3.4% search conversion.",
                    "rolledOutVariant": "treatment",
                    "endDate": d.ago(380).strftime("%Y-%m-%d"),
                    "rolloutWeights": {"control": 0, "treatment": 1},
                },
            ),
            (300, {"archived": True, "enabled": False}),
        ],
    )
    old_flag = d.new(
        "flags",
        "holiday-2025-theme",
        days=400,
        squad="growth",
        description="Seasonal theme for the 2025 holidays.",
        variants=_on({"theme": "snow"}),
    )
    d.rollout(old_flag, 395, 330, deployments=[WEB, IOS], steps=(100,))
    d.story(old_flag, [(320, {"enabled": False}), (300, {"archived": True})])

    # ---- fully-rolled-out: 100% to one variant, unchanged for 94 days
    b = d.new(
        "flags",
        "express-pay-button",
        days=330,
        squad="checkout",
        description="One-tap express pay on the cart page.",
        variants=_on({"provider": "stripe"}),
    )
    d.rollout(b, 325, 94, deployments=[WEB, IOS, ANDROID], steps=(5, 25, 50, 100), extra=[])
    b = d.new(
        "flags",
        "search-ranking-v2",
        days=260,
        squad="search",
        description="Learning-to-rank model v2 for product search.",
        variants=_ab({"model": "bm25"}, {"model": "ltr-v2"}),
        rolloutWeights={"control": 1, "treatment": 1},
    )
    d.rollout(
        b,
        255,
        45,
        deployments=[API],
        steps=(10, 50, 100),
        extra=[
            {"rolloutWeights": {"control": 1, "treatment": 2}},
            {"rolloutWeights": {"control": 1, "treatment": 3}},
            # latency regression at 75% treatment: back to 1:2 for a week
            "rollback",
            {
                "targetSegments": [
                    segment(
                        "Internal users",
                        [condition("glob match", "gp:email_domain", ["*.example.com"])],
                        {"control": 0, "treatment": 1},
                    )
                ]
            },
            {"variants": _ab({"model": "bm25"}, {"model": "ltr-v2.1"})},
            {"rolloutWeights": {"control": 1, "treatment": 3}},
            {"rolloutWeights": {"control": 1, "treatment": 9}},
            {"rolloutWeights": {"control": 0, "treatment": 1}},
        ],
    )

    # ---- inactive: disabled for 60 days; enabled at 0% for 40 days; a permanent kill switch
    b = d.new(
        "flags",
        "black-friday-2025-banner",
        days=380,
        squad="growth",
        description="Homepage banner for Black Friday 2025.",
        variants=_on({"headline": "Up to 50% off"}),
    )
    d.rollout(
        b,
        370,
        90,
        deployments=[WEB, IOS, ANDROID],
        steps=(100,),
        extra=[{"variants": _on({"headline": "Last chance: up to 50% off"})}],
    )
    d.story(b, [(60, {"enabled": False})])
    b = d.new(
        "flags",
        "android-offline-mode",
        days=200,
        squad="mobile",
        description="Offline reading mode for the Android app.",
        variants=_on(),
    )
    d.rollout(b, 195, 70, deployments=[ANDROID], steps=(5, 25))
    d.story(b, [(40, {"rolloutPercentage": 0})])
    b = d.new(
        "flags",
        "payments-kill-switch",
        days=540,
        squad="platform",
        description="Turns every payment method off during an incident. Keep.",
        variants=_on(),
        tags=["squad:platform", "kill-switch", "expkit:permanent"],
        project=API_PROJECT,
    )
    d.story(
        b,
        [
            (535, {"deployments": [API]}),
            (300, {"enabled": True, "rolloutPercentage": 100}),
            (299, {"enabled": False}),
        ],
    )

    # ---- no-deployment: enabled but in no deployment / only a deleted one
    b = d.new(
        "flags",
        "referral-rewards-v2",
        days=120,
        squad="growth",
        description="Double referral rewards for the holiday season.",
        variants=_on({"reward": 20}),
    )
    d.story(b, [(110, {"enabled": True, "rolloutPercentage": 25}), (80, {"rolloutPercentage": 50})])
    b = d.new(
        "flags",
        "invoice-pdf-v2",
        days=300,
        squad="payments",
        description="New PDF renderer for invoices.",
        variants=_on(),
    )
    d.rollout(b, 295, 200, deployments=[LEGACY], steps=(10, 50))

    # ---- empty-condition, zero-percent-segment
    b = d.new(
        "flags",
        "pricing-annual-toggle",
        days=150,
        squad="growth",
        description="Annual/monthly toggle on the pricing page.",
        variants=_ab(None, {"default": "annual"}),
    )
    d.rollout(
        b,
        145,
        20,
        deployments=[WEB],
        steps=(50,),
        extra=[
            {
                "targetSegments": [
                    segment(
                        "Free plan",
                        [condition("is", "gp:plan", ["free"])],
                        {"control": 0, "treatment": 1},
                    )
                ]
            },
            {
                "targetSegments": [
                    segment(
                        "Free plan",
                        [condition("is", "gp:plan", [])],
                        {"control": 0, "treatment": 1},
                    )
                ]
            },
        ],
    )
    b = d.new(
        "flags",
        "autocomplete-typo-tolerance",
        days=210,
        squad="search",
        description="Fuzzy matching in search autocomplete.",
        variants=_on(),
        project=API_PROJECT,
    )
    d.rollout(
        b,
        205,
        35,
        deployments=[API],
        steps=(10, 30),
        extra=[
            {
                "targetSegments": [
                    segment(
                        "Internal users",
                        [condition("glob match", "gp:email_domain", ["*.example.com"])],
                        {"on": 1},
                        percentage=100,
                    )
                ]
            },
            {
                "targetSegments": [
                    segment(
                        "Internal users",
                        [condition("glob match", "gp:email_domain", ["*.example.com"])],
                        {"on": 1},
                        percentage=0,
                    )
                ]
            },
        ],
    )

    # ---- weight-mismatch: a weight for a deleted variant; a variant without a weight
    b = d.new(
        "flags",
        "cart-upsell-carousel",
        days=240,
        squad="checkout",
        description="Product carousel under the cart.",
        variants=_ab(
            None, {"items": 4}, {"items": 8}, keys=("control", "treatment", "treatment-old")
        ),
        rolloutWeights={"control": 1, "treatment": 1, "treatment-old": 1},
    )
    d.rollout(
        b,
        235,
        50,
        deployments=[WEB],
        steps=(20, 60),
        extra=[
            {"variants": _ab(None, {"items": 4}, keys=("control", "treatment"))},
        ],
    )
    b = d.new(
        "flags",
        "onboarding-checklist-v3",
        days=160,
        squad="onboarding",
        description="Third iteration of the setup checklist.",
        variants=_ab({"steps": 5}, {"steps": 3}, keys=("compact", "detailed")),
        rolloutWeights={"compact": 1, "detailed": 1},
    )
    d.rollout(
        b,
        155,
        25,
        deployments=[WEB, IOS],
        steps=(25, 75),
        extra=[
            {
                "variants": [
                    *_ab({"steps": 5}, {"steps": 3}, keys=("compact", "detailed")),
                    {
                        "key": "spacious",
                        "name": "Spacious",
                        "description": "More whitespace",
                        "payload": {"steps": 3, "density": "low"},
                    },
                ]
            },
        ],
    )

    # ---- dangling-dependency: on the archived wallet-v1, and on an id that does not exist
    b = d.new(
        "flags",
        "wallet-apple-pay",
        days=360,
        squad="payments",
        description="Apple Pay inside the wallet.",
        variants=_on(),
        parentDependencies={"flags": {wallet_v1.id: ["on"]}, "operator": "all"},
    )
    d.rollout(b, 355, 250, deployments=[WEB, IOS], steps=(10, 50))
    b = d.new(
        "flags",
        "3ds-challenge-v2",
        days=180,
        squad="payments",
        description="Second version of the 3-D Secure challenge screen.",
        variants=_on(),
        parentDependencies={"flags": {MISSING_PARENT: ["on"]}, "operator": "all"},
        project=API_PROJECT,
    )
    d.rollout(b, 175, 100, deployments=[API], steps=(5, 20))

    # ---- inclusion-overload and pii-inclusion
    b = d.new(
        "flags",
        "ios-beta-program",
        days=280,
        squad="mobile",
        description="Beta features for TestFlight users.",
        variants=_on({"beta": True}),
    )
    d.rollout(b, 275, 60, deployments=[IOS], steps=(1, 2))
    d.users(b, "on", [f"ios-beta-{i:05d}" for i in range(1, 1851)])
    b = d.new(
        "flags",
        "support-priority-queue",
        days=140,
        squad="platform",
        description="Routes these customers to the priority support queue.",
        variants=_on(),
        project=API_PROJECT,
    )
    d.rollout(b, 135, 30, deployments=[API], steps=(5, 10))
    d.users(
        b,
        "on",
        [
            "user-10293",
            "jane.doe@example.com",
            "user-48211",
            "r.kowalski@example.org",
            "acme-admin@example.net",
            "user-77002",
        ],
    )

    # ---- undocumented: no description and no tags; no tags; a blank description
    b = d.new(
        "flags",
        "tmp-test-flag",
        days=100,
        squad="platform",
        description="",
        variants=_on(),
        tags=[],
    )
    d.rollout(b, 99, 60, deployments=[WEB], steps=(50,))
    b = d.new(
        "flags",
        "graphql-batching",
        days=220,
        squad="platform",
        description="Batch GraphQL queries from the web client.",
        variants=_on(),
        tags=[],
    )
    d.rollout(b, 215, 90, deployments=[WEB], steps=(10, 40))
    b = d.new(
        "flags",
        "push-digest",
        days=190,
        squad="mobile",
        description="   ",
        variants=_ab(None, {"schedule": "daily"}, keys=("weekly", "daily")),
        tags=["squad:mobile"],
        rolloutWeights={"weekly": 1, "daily": 1},
    )
    d.rollout(b, 185, 65, deployments=[IOS, ANDROID], steps=(20, 60))

    # ---- recent-change (otherwise healthy): ramped two days ago
    b = d.new(
        "flags",
        "search-filters-redesign",
        days=90,
        squad="search",
        description="New filter sidebar on search results.",
        variants=_ab({"layout": "list"}, {"layout": "sidebar"}),
        rolloutWeights={"control": 1, "treatment": 1},
    )
    d.rollout(
        b,
        88,
        2,
        deployments=[WEB],
        steps=(5, 25, 50),
        extra=[
            {
                "targetSegments": [
                    segment(
                        "Internal users",
                        [condition("glob match", "gp:email_domain", ["*.example.com"])],
                        {"control": 0, "treatment": 1},
                    )
                ]
            }
        ],
    )

    # ---- healthy flags: documented, deployed, partially or evenly rolled out, quiet >= 8 days
    healthy = [
        ("checkout-address-validation", "checkout", "Validates shipping addresses as you type.", 0),
        ("cart-save-for-later", "checkout", "Move cart items to a saved list.", 1),
        ("referral-share-sheet", "growth", "Native share sheet for referral links.", 2),
        ("signup-social-login", "growth", "Sign up with Google or Apple.", 3),
        ("search-synonyms", "search", "Synonym expansion for search queries.", 4),
        ("api-response-cache", "platform", "Edge cache for catalogue API responses.", 0),
        ("rate-limiter-v2", "platform", "Token-bucket rate limiter for the public API.", 1),
        ("ios-widgets", "mobile", "Home-screen widgets on iOS.", 2),
        ("android-deep-links", "mobile", "Deep links into product pages on Android.", 3),
        ("paypal-pay-later", "payments", "PayPal Pay Later at checkout.", 4),
        ("refunds-self-service", "payments", "Customers can start refunds themselves.", 0),
        ("welcome-tour-v2", "onboarding", "Shorter product tour for new users.", 1),
        ("templates-gallery", "onboarding", "Template gallery on the empty dashboard.", 2),
        ("cache-warmup-on-deploy", "platform", "Warms the product cache after each deploy.", 3),
        ("search-query-suggestions", "search", "Query suggestions under the search box.", 4),
        ("android-material-you", "mobile", "Material You colours on Android 12+.", 0),
    ]
    for i, (key, squad, description, seg_i) in enumerate(healthy):
        api = squad == "platform"
        b = d.new(
            "flags",
            key,
            days=400 - i * 22,
            squad=squad,
            description=description,
            variants=_on({"v": 2} if i % 3 == 0 else None),
            project=API_PROJECT if api else WEB_PROJECT,
        )
        deps = [API] if api else [WEB, IOS, ANDROID][: 1 + i % 3]
        steps = (5, 25, 50) if i % 2 else (10, 30, 60)
        extra: list[dict[str, Any] | str] = [{"targetSegments": seg_sets[seg_i]}]
        if i % 4 == 0:
            # an incident: ramped to 100, rolled back the same day
            extra += [{"rolloutPercentage": 100}, "rollback"]
        # everyday edits, a different mix per flag
        pool: list[dict[str, Any] | str] = [
            {"description": f"{description} Owner: squad {squad}."},
            {"targetSegments": [*seg_sets[seg_i], *seg_sets[(seg_i + 1) % len(seg_sets)]]},
            {"tags": [f"squad:{squad}", "prod", "q3-okr"]},
            {"rolloutPercentage": steps[-1] - 5},
            {"variants": _on({"v": 3, "copy": "Try it now"})},
            {"targetSegments": seg_sets[seg_i]},
            {"rolloutPercentage": steps[-1]},
            {"evaluationMode": "local" if i % 2 else "remote"},
        ]
        extra += pool[: 2 + (i * 3) % 7]
        d.rollout(b, 395 - i * 22, 12 + i * 3, deployments=deps, steps=steps, extra=extra)
    b = d.new(
        "flags",
        "wallet-v2",
        days=300,
        squad="payments",
        description="Wallet with saved cards and balances.",
        variants=_on(),
    )
    d.rollout(b, 295, 40, deployments=[WEB, IOS, ANDROID], steps=(5, 25, 75))
    b = d.new(
        "flags",
        "wallet-split-payments",
        days=150,
        squad="payments",
        description="Split a payment between wallet balance and card.",
        variants=_on(),
        parentDependencies={"flags": {d.builders["wallet-v2"].id: ["on"]}, "operator": "all"},
    )
    d.rollout(b, 145, 15, deployments=[WEB, IOS], steps=(10, 40))
    b = d.new(
        "flags",
        "color-theme-picker",
        days=230,
        squad="growth",
        description="Twenty accent colours, evenly split, to pick a new brand colour.",
        variants=[
            {
                "key": f"color-{i:02d}",
                "name": f"Colour {i}",
                "description": "",
                "payload": {"accent": f"#{(i * 0x0B1D3F) % 0xFFFFFF:06x}"},
            }
            for i in range(1, 21)
        ],
        rolloutWeights={f"color-{i:02d}": 1 for i in range(1, 21)},
    )
    d.rollout(b, 225, 30, deployments=[WEB], steps=(10, 100))
    b = d.new(
        "flags",
        "product-page-layout",
        days=250,
        squad="growth",
        description="Gallery-first product page. " + XSS + " (pasted from the ticket)",
        variants=_ab("classic", "gallery", 3, keys=("classic", "gallery", "carousel")),
        rolloutWeights={"classic": 2, "gallery": 1, "carousel": 1},
    )
    d.rollout(
        b,
        245,
        18,
        deployments=[WEB, IOS],
        steps=(10, 50, 100),
        extra=[
            {"rolloutWeights": {"classic": 1, "gallery": 1, "carousel": 1}},
            {
                "targetSegments": [
                    segment(
                        "Small screens",
                        [
                            condition("is", "platform", ["Web"]),
                            condition("less", "gp:screen_width", ["768"]),
                        ],
                        {"classic": 0, "gallery": 1, "carousel": 1},
                    )
                ]
            },
            {"rolloutWeights": {"classic": 1, "gallery": 2, "carousel": 1}},
            "rollback",
            {"variants": _ab("classic", "gallery-v2", 4, keys=("classic", "gallery", "carousel"))},
            {"rolloutWeights": {"classic": 1, "gallery": 2, "carousel": 2}},
            {"evaluationMode": "local"},
        ],
    )
    d.users(b, "gallery", ["user-31337", "user-42424"], cohorts=["q4ptl2x"])
    b = d.new(
        "flags",
        "checkout-tipping",
        days=170,
        squad="checkout",
        description="Optional tip for couriers at checkout.",
        variants=_on({"presets": [1, 2, 5]}),
    )
    d.rollout(b, 165, 22, deployments=[WEB, IOS, ANDROID], steps=(5, 15, 35))
    d.users(b, "on", ["user-10001", "user-10002", "user-10003"], cohorts=["couriers-vip"])

    # ---- experiments
    def exp(
        key,
        squad,
        description,
        *,
        created,
        start,
        decided=None,
        decision=None,
        variants=None,
        deployments=(WEB,),
        etype="a-b-test",
        ramps=(10, 50, 100),
        extra=(),
    ):
        variants = variants or _ab(None, {"variant": "b"})
        keys = [v["key"] for v in variants]
        e = d.new(
            "experiments",
            key,
            days=created,
            squad=squad,
            description=description,
            variants=variants,
            experimentType=etype,
        )
        events: list[tuple[float, dict[str, Any] | str]] = [
            (
                created - 1,
                {
                    "targetSegments": [
                        segment(
                            "Logged-in users",
                            [condition("is", "gp:logged_in", ["true"])],
                            {k: 1 for k in keys},
                        )
                    ]
                },
            ),
            (created - 2, {"deployments": list(deployments)}),
        ]
        if start is not None:
            events.append(
                (
                    start,
                    {
                        "enabled": True,
                        "rolloutPercentage": ramps[0],
                        "startDate": (RECORDED_AT - timedelta(days=start)).strftime("%Y-%m-%d"),
                    },
                )
            )
            for j, pct in enumerate(ramps[1:], start=1):
                events.append((start - j * 2, {"rolloutPercentage": pct}))
        events += list(extra)
        if decided is not None:
            winner = keys[-1] if decision == "rollout" else keys[0]
            events.append(
                (
                    decided,
                    {
                        "decision": decision,
                        "decisionReason": (
                            "Treatment won on the primary metric (p < 0.01)."
                            if decision == "rollout"
                            else "No significant difference; keep control."
                        ),
                        "rolledOutVariant": winner,
                        "endDate": (RECORDED_AT - timedelta(days=decided + 1)).strftime("%Y-%m-%d"),
                        "rolloutWeights": {k: int(k == winner) for k in keys},
                        "targetSegments": [
                            segment(
                                "Logged-in users",
                                [condition("is", "gp:logged_in", ["true"])],
                                {k: int(k == winner) for k in keys},
                            )
                        ],
                    },
                )
            )
        d.story(e, events)
        return e

    exp(
        "checkout-one-page-exp",
        "checkout",
        "One-page checkout vs the three-step flow.",
        created=160,
        start=150,
    )
    exp(
        "welcome-tour-copy-exp",
        "onboarding",
        "Shorter copy in the welcome tour.",
        created=20,
        start=3,
        ramps=(10, 50),
    )
    exp(
        "checkout-address-autocomplete-exp",
        "checkout",
        "Address autocomplete in checkout.",
        created=200,
        start=190,
        decided=120,
        decision="rollout",
    )
    e1 = exp(
        "checkout-trust-badges-exp",
        "checkout",
        "Trust badges next to the pay button.",
        created=70,
        start=60,
    )
    e2 = exp(
        "checkout-shipping-eta-exp",
        "checkout",
        "Show the delivery date at checkout.",
        created=50,
        start=40,
        variants=_ab(None, {"eta": "date"}, {"eta": "days"}, keys=("control", "date", "days")),
    )
    e3 = exp(
        "pricing-anchor-exp",
        "growth",
        "Show the most expensive plan first.",
        created=80,
        start=55,
        deployments=(WEB, IOS),
    )
    exp(
        "search-results-density-exp",
        "search",
        "Compact vs spacious result cards.",
        created=45,
        start=30,
        etype="multi-arm-bandit",
        variants=_ab("spacious", "compact", "dense", keys=("control", "compact", "dense")),
    )
    exp(
        "onboarding-video-exp",
        "onboarding",
        "Intro video on the first dashboard visit.",
        created=40,
        start=35,
        extra=[
            (
                20,
                {
                    "targetSegments": [
                        segment(
                            "New users",
                            [condition("less", "gp:account_age_days", ["7"])],
                            {"control": 1, "treatment": 1},
                        )
                    ]
                },
            )
        ],
    )
    exp(
        "paypal-default-exp",
        "payments",
        "PayPal preselected as the payment method.",
        created=90,
        start=80,
        decided=14,
        decision="rollout",
    )
    exp(
        "cart-free-shipping-bar-exp",
        "checkout",
        "Progress bar towards free shipping.",
        created=100,
        start=85,
        decided=20,
        decision="rollback",
    )
    exp(
        "ios-paywall-copy-exp",
        "mobile",
        "Paywall headline test on iOS.",
        created=75,
        start=60,
        decided=10,
        decision="rollout",
        deployments=(IOS,),
    )
    exp(
        "referral-landing-exp",
        "growth",
        "Personalised referral landing page.",
        created=15,
        start=None,
    )
    exp(
        "search-voice-exp",
        "search",
        "Voice search button in the app.",
        created=12,
        start=None,
        deployments=(IOS, ANDROID),
    )

    # groups: a mutex over two checkout experiments, a holdout for the growth squad
    mutex_id, holdout_id = d.new_id(), d.new_id()
    e1.add_parent(mutex_id, "slot-1")
    e2.add_parent(mutex_id, "slot-2")
    e3.add_parent(holdout_id, HOLDOUT_PASS_VARIANT)
    created = iso(RECORDED_AT - timedelta(days=75, hours=5))
    d.mutexes.append(
        {
            "id": mutex_id,
            "projectId": WEB_PROJECT,
            "name": "Checkout experiments",
            "key": "mutex-checkout",
            "description": "Keeps checkout tests from overlapping.",
            "evaluationMode": "remote",
            "bucketingKey": "amplitude_id",
            "bucketingSalt": d.token(8),
            "slots": [
                {
                    "name": "SLOT 1",
                    "index": 1,
                    "variantKey": "slot-1",
                    "percentage": 50,
                    "experiments": [int(e1.id)],
                    "holdouts": [],
                    "individuals": [],
                    "cohorts": [],
                },
                {
                    "name": "SLOT 2",
                    "index": 2,
                    "variantKey": "slot-2",
                    "percentage": 50,
                    "experiments": [int(e2.id)],
                    "holdouts": [],
                    "individuals": [],
                    "cohorts": [],
                },
            ],
            "deleted": False,
            "createdBy": TEAM["checkout"][0],
            "createdAt": created,
            "lastModifiedBy": TEAM["checkout"][0],
            "lastModifiedAt": created,
        }
    )
    d.holdouts.append(
        {
            "id": holdout_id,
            "projectId": WEB_PROJECT,
            "name": "Growth Q4 holdout",
            "key": "holdout-growth-q4",
            "description": "Measures the combined effect of Q4 growth launches.",
            "holdoutPercentage": 5,
            "evaluationMode": "remote",
            "bucketingKey": "amplitude_id",
            "bucketingSalt": d.token(8),
            "variantName": "on",
            "experiments": [int(e3.id)],
            "individualInclusion": [],
            "individualExclusion": ["user-90001"],
            "deleted": False,
            "createdBy": TEAM["growth"][0],
            "lastModifiedBy": TEAM["growth"][0],
            "createdAt": created,
            "lastModifiedAt": created,
        }
    )

    _tag_and_experiment_change_cases(d)
    _staging(d, deployments)

    org: dict[str, Any] = {
        "flags": [],
        "experiments": [],
        "deployments": deployments,
        "mutexes": d.mutexes,
        "holdouts": d.holdouts,
        "versions": {},
        "inclusions": d.inclusions,
    }
    builders = sorted(d.builders.values(), key=lambda x: x.first_time, reverse=True)
    for b in builders:
        org[b.kind].append(b.build())
        org["versions"][b.id] = b.versions
    return org


def _staging(d: Demo, deployments: list[dict[str, Any]]) -> None:
    """Staging copies of three web flags, each with one drift, plus a staging-only flag.

    Built after every production config, so that the random draws (ids, times, salts) of
    the production configs are the same as without a staging project. Every staging config
    is enabled, deployed, documented and unchanged for 10+ days: no hygiene finding.
    """
    deployments.append(
        {
            "id": STAGING_WEB,
            "projectId": STAGING_PROJECT,
            "label": "web-staging",
            "deleted": False,
            "key": f"client-{d.token(32)}",
        }
    )

    def copy(key: str, days: float, change: dict[str, Any]) -> None:
        prod = d.builders[key].build()
        squad = d.squads[d.builders[key].id]
        b = d.new(
            "flags",
            key,
            days=days,
            squad=squad,
            description=prod["description"],
            variants=[dict(v) for v in prod["variants"]],
            tags=list(prod["tags"]),
            project=STAGING_PROJECT,
            rolloutWeights=dict(prod["rolloutWeights"]),
            targetSegments=[dict(s) for s in prod["targetSegments"]],
            evaluationMode=prod["evaluationMode"],
        )
        d.story(
            b,
            [
                (days - 1, {"deployments": [STAGING_WEB]}),
                (days - 2, {"enabled": True, "rolloutPercentage": prod["rolloutPercentage"]}),
                (12, change),
            ],
        )

    weights = d.builders[DRIFT["weights"]].build()["rolloutWeights"]
    copy(DRIFT["weights"], 60, {"rolloutWeights": {k: 1 for k in weights}})
    variants = d.builders[DRIFT["payload"]].build()["variants"]
    copy(
        DRIFT["payload"],
        55,
        {"variants": [{**v, "payload": {"v": 4, "copy": "Refund in one click"}} for v in variants]},
    )
    segments = d.builders[DRIFT["segment"]].build()["targetSegments"]
    qa = segment(
        "QA team",
        [condition("is", "gp:team", ["qa"])],
        {"on": 1},
    )
    copy(DRIFT["segment"], 50, {"targetSegments": [qa, *segments]})

    b = d.new(
        "flags",
        DRIFT["missing in target"],
        days=40,
        squad="checkout",
        description="An express checkout lane for returning customers.",
        variants=_on({"lane": "express"}),
        tags=["squad:checkout", "prod"],
        project=STAGING_PROJECT,
    )
    d.rollout(b, 38, 14, deployments=[STAGING_WEB], steps=(25, 50))


def _tag_and_experiment_change_cases(d: Demo) -> None:
    """Running experiments changed after their start (``mid-experiment-change``) and the
    dated tags: an expired flag, one expiring later (no finding), a tag with a bad date
    (``bad-tag``) and a snoozed config whose findings are held back. Added after every other
    config, so the rest of the demo org keeps its ids and times."""

    def experiment(key: str, squad: str, description: str, variants: list[dict[str, Any]]):
        keys = [v["key"] for v in variants]
        e = d.new(
            "experiments",
            key,
            days=50,
            squad=squad,
            description=description,
            variants=variants,
            experimentType="a-b-test",
            rolloutWeights={k: 1 for k in keys},
        )
        d.story(
            e,
            [
                (
                    49,
                    {
                        "targetSegments": [
                            segment(
                                "Logged-in users",
                                [condition("is", "gp:logged_in", ["true"])],
                                {k: 1 for k in keys},
                            )
                        ]
                    },
                ),
                (48, {"deployments": [WEB]}),
                (
                    40,
                    {
                        "enabled": True,
                        "rolloutPercentage": 100,
                        "startDate": (RECORDED_AT - timedelta(days=40)).strftime("%Y-%m-%d"),
                    },
                ),
            ],
        )
        return e

    # weights moved from 50/50 to 67/33 three weeks in: users jump between variants
    e = experiment(
        "checkout-payment-order-exp",
        "checkout",
        "Card first vs wallet first in the payment step.",
        _ab(None, {"order": "wallet-first"}),
    )
    d.story(e, [(19, {"rolloutWeights": {"control": 1, "treatment": 2}})])
    # sticky bucketing turned on and a third variant added while running
    e = experiment(
        "search-autosuggest-exp",
        "search",
        "Autosuggest with product thumbnails.",
        _ab(None, {"thumbnails": True}),
    )
    d.story(
        e,
        [
            (30, {"stickyBucketing": True}),
            (
                25,
                {
                    "variants": _ab(
                        None,
                        {"thumbnails": True},
                        {"thumbnails": True, "prices": True},
                        keys=("control", "treatment", "treatment-prices"),
                    ),
                    "rolloutWeights": {"control": 1, "treatment": 1, "treatment-prices": 1},
                },
            ),
        ],
    )

    def flag(key: str, squad: str, description: str, tag: str, **fields: Any) -> ConfigBuilder:
        b = d.new(
            "flags",
            key,
            days=160,
            squad=squad,
            description=description,
            variants=_on(),
            tags=[f"squad:{squad}", "prod", tag],
            **fields,
        )
        return b

    b = flag(
        "spring-sale-2026-banner",
        "growth",
        "Homepage banner for the 2026 spring sale.",
        "expkit:expires=2026-06-30",
    )
    d.rollout(b, 155, 120, deployments=[WEB, IOS], steps=(10, 50))
    b = flag(
        "gift-cards-v1",
        "payments",
        "Digital gift cards at checkout.",
        "expkit:expires=2027-03-31",
    )
    d.rollout(b, 150, 60, deployments=[WEB], steps=(5, 20, 40))
    b = flag(
        "loyalty-points-beta",
        "growth",
        "Loyalty points on every order, beta.",
        "expkit:snooze-until=after-black-friday",
    )
    d.rollout(b, 140, 50, deployments=[WEB, IOS, ANDROID], steps=(5, 15))
    # disabled for months (inactive) but snoozed by its owner until mid-December
    b = flag(
        "gift-wrap-option",
        "checkout",
        "Gift wrapping at checkout, back for the holidays.",
        "expkit:snooze-until=2026-12-15",
    )
    d.rollout(b, 150, 120, deployments=[WEB], steps=(25, 50))
    d.story(b, [(100, {"enabled": False})])


def demo_server(org: dict[str, Any] | None = None) -> FakeServer:
    """A (not yet started) fake server over the demo org, its clock at RECORDED_AT."""
    org = build_demo_org() if org is None else org
    return FakeServer(State.from_org(org, clock=FakeClock(RECORDED_AT)))


def make(out: Path, *, progress: bool = False) -> Path:
    """Builds the demo org, serves it and records it into ``out``; returns ``out``."""
    with demo_server() as server:
        client = server.client(rate_limit=None)
        return record(client, out, progress=progress, source=SOURCE)


def _same_tree(a: Path, b: Path) -> bool:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    if files_a != files_b:
        return False
    return all(filecmp.cmp(a / f, b / f, shallow=False) for f in files_a)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output directory (default {OUT})")
    parser.add_argument("--check", action="store_true", help="only check --out is up to date")
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = make(Path(tmp) / "demo")
            if not _same_tree(fresh, args.out):
                print(f"{args.out} is stale: run python scripts/make_demo_org.py", file=sys.stderr)
                return 1
        print(f"{args.out} is up to date")
        return 0
    out = make(args.out, progress=True)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"recorded the demo org into {out} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
