"""The hygiene rules, one module per family; importing this package registers them all.

``rollout``: who gets what and for how long. ``targeting``: who is matched and how.
``dependencies``: what a config needs from the rest of the org. ``lifecycle``: where a config
stands in its life. To add a rule, add one ``@rule(...)`` function to the module of its family
(see ``notes/hygiene.md`` or the hygiene page of the docs).
"""

from __future__ import annotations

# RULES orders the rules by FAMILIES whatever the order of these imports
from expkit.hygiene.rules import dependencies, lifecycle, rollout, targeting

__all__ = ["dependencies", "lifecycle", "rollout", "targeting"]
