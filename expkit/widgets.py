"""ipywidgets editors: thin views over the edit plans of ``expkit.edits``.

Each editor is an ``ipywidgets.VBox`` (display it, or make it a cell's last expression);
nothing is displayed from a constructor. The plan holds every pending value and does all
validation and I/O; the widgets only forward what is typed and show what the plan says.
Controls are attributes, so a notebook or a test can drive them::

    editor = RolloutEditor(client, "123456")
    editor.weights["treatment"].value = 3
    editor.preview_button.click()   # Apply is enabled only after a valid preview
    editor.apply_button.click()
    editor.status.value             # the preview table, the result or the error, as HTML

Tick ``editor.dry_run`` to have Apply run every check and send no write.

After Apply or Undo, ``status`` shows each request with its status on the server
(applied / not applied / rolled back / unknown); a failed or unverified one shows that table
above the error, and Undo stays enabled while anything of the apply may still be in place.

Any change after a preview disables Apply again until the next preview; Apply sends
only the requests the preview listed.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets

from expkit.edits import ApplyResult, InclusionsEdit, PayloadEdit, RolloutEdit
from expkit.edits._core import ConflictError, EditClient, Plan
from expkit.edits._inclusions_edit import MAX_INCLUSIONS
from expkit.edits._payload_edit import parse_payload, payload_text
from expkit.errors import ExpkitError

__all__ = ["CleanupEditor", "InclusionsEditor", "PayloadEditor", "RolloutEditor"]

_OK = "#1a7f37"
_WARN = "#9a6700"
_ERR = "#cf222e"


def _errors_html(errors: list[str]) -> str:
    if not errors:
        return f'<span style="color:{_OK}">✓ valid</span>'
    items = "".join(f"<li>{html.escape(e)}</li>" for e in errors)
    return f'<ul style="color:{_ERR};margin:0">{items}</ul>'


# wrap at spaces, never inside a word (JupyterLab's output <pre> breaks anywhere)
_PROSE = "white-space:normal;overflow-wrap:anywhere;word-break:normal;margin:4px 0"


def _error_html(exc: BaseException) -> str:
    if isinstance(exc, ConflictError):
        return _conflict_html(exc)
    title = html.escape(type(exc).__name__)
    body = html.escape(str(exc))
    return (
        f'<div class="expkit-error" style="color:{_ERR}"><b>{title}</b>'
        f'<p style="{_PROSE}">{body}</p></div>'
    )


def _conflict_html(exc: ConflictError) -> str:
    """A conflict said in words, naming the Reload button (not the plan's .reload())."""
    who = f" by {html.escape(exc.changed_by)}" if exc.changed_by else ""
    when = f" at {html.escape(exc.changed_at)}" if exc.changed_at else ""
    what = f" ({html.escape(', '.join(exc.fields))})" if exc.fields else ""
    return (
        f'<div class="expkit-error expkit-conflict" style="color:{_ERR}">'
        "<b>Changed on the server: nothing was sent</b>"
        f'<p style="{_PROSE}">Someone changed this config{what} since this editor loaded it'
        f"{who}{when}. Click <b>Reload</b> to start from what the server holds now (your edits "
        "stay in the controls), then <b>Preview</b> and <b>Apply</b> again.</p></div>"
    )


def _list_hint(items: Sequence[str], noun: str, variant: str) -> str:
    """The line under a removal list: what to do with it, or that there is nothing to remove."""
    if not items:
        return (
            f"<small>no {noun}s are included in {html.escape(variant)}: nothing to remove</small>"
        )
    return f"<small>select the {noun}s to remove (Ctrl or Shift for several)</small>"


def _half() -> widgets.Layout:
    return widgets.Layout(width="50%", padding="0 16px 0 0")


def _labelled(
    label: str, control: widgets.Widget, *, layout: widgets.Layout | None = None
) -> widgets.VBox:
    """``control`` under a bold ``label``."""
    children = [widgets.HTML(f"<b>{label}</b>"), control]
    return widgets.VBox(children) if layout is None else widgets.VBox(children, layout=layout)


class _Editor(widgets.VBox):
    """Preview / Apply / Undo / Reload buttons and the status area, wired to a plan."""

    plan: Plan

    def _init_buttons(self) -> None:
        self.preview_button = widgets.Button(description="Preview", icon="eye")
        self.apply_button = widgets.Button(
            description="Apply", icon="check", button_style="danger", disabled=True
        )
        self.undo_button = widgets.Button(description="Undo", icon="undo", disabled=True)
        self.reload_button = widgets.Button(description="Reload", icon="refresh")
        self.dry_run = widgets.Checkbox(value=False, description="dry run", indent=False)
        self.validation = widgets.HTML()
        self.status = widgets.HTML()
        self._previewed = False
        self._previewed_requests: list[Any] = []
        self._syncing = False
        self.preview_button.on_click(lambda _: self._on_preview())
        self.apply_button.on_click(lambda _: self._on_apply())
        self.undo_button.on_click(lambda _: self._on_undo())
        self.reload_button.on_click(lambda _: self._on_reload())

    def _buttons(self) -> widgets.HBox:
        return widgets.HBox(
            [
                self.preview_button,
                self.apply_button,
                self.dry_run,
                self.undo_button,
                self.reload_button,
            ]
        )

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """Sets controls from code without the observers writing back to the plan."""
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    def _variant_picker(self, on_change: Callable[[], None]) -> widgets.Dropdown:
        keys = self.plan.variant_keys
        picker = widgets.Dropdown(
            options=keys, value=keys[0] if keys else None, description="variant"
        )
        picker.observe(lambda _: None if self._syncing else on_change(), names="value")
        return picker

    def _follow_variants(self) -> list[str]:
        """Lists the variants the server has now (after reload, apply or undo) in the picker.

        Returns the variants gone from the server; their pending edits cannot be applied, so
        they are dropped rather than left as errors that no control can clear.
        """
        keys = tuple(self.plan.variant_keys)
        shown = tuple(self.variant.options)
        if shown == keys:
            return []
        gone = [k for k in shown if k not in keys]
        for key in gone:
            self.plan.discard(key)
        current = self.variant.value
        with self._quiet():
            self.variant.options = keys
            self.variant.value = current if current in keys else (keys[0] if keys else None)
        self._note_gone(gone)
        return gone

    def _note_gone(self, gone: list[str]) -> None:
        if gone:
            names = ", ".join(repr(k) for k in gone)
            self.status.value += (
                f'<p style="color:{_WARN}">Variant {html.escape(names)} is gone from the '
                "server; what was typed for it was dropped.</p>"
            )

    def _forward(self, setter: Callable[[Any], Any]) -> Callable[[dict[str, Any]], None]:
        """An observer passing a control's new value to the plan, unless we are syncing."""

        def observer(change: dict[str, Any]) -> None:
            if self._syncing:
                return
            setter(change["new"])
            self._changed()

        return observer

    def _changed(self) -> None:
        self._previewed = False
        self._refresh()

    def _refresh(self) -> None:
        errors = self.plan.errors
        self.validation.value = _errors_html(errors)
        self.apply_button.disabled = not (self._previewed and not errors and self.plan.has_changes)
        self.undo_button.disabled = not self.plan.can_undo

    def _sync(self) -> None:
        """Puts the plan's values (after apply, undo or reload) back into the controls."""
        raise NotImplementedError

    def _preview_html(self) -> str:
        frame = self.plan.preview()
        changes = self.plan.changes()
        items = "".join(f"<li>{html.escape(c)}</li>" for c in changes)
        requests = "".join(
            f"<li><code>{html.escape(str(r))}</code></li>" for r in self.plan.requests()
        )
        return (
            '<div class="expkit-preview">'
            f"<b>Changes</b><ul>{items}</ul>"
            f"{frame.to_html(index=False, na_rep='—', float_format=lambda x: f'{x:.4g}')}"
            f"<b>Requests apply will send</b><ol>{requests}</ol></div>"
        )

    def _on_preview(self) -> None:
        if not self.plan.is_valid:
            self._previewed = False
            self.status.value = (
                f'<div class="expkit-invalid"><b>Fix these first:</b>'
                f"{_errors_html(self.plan.errors)}</div>"
            )
        elif not self.plan.has_changes:
            self._previewed = False
            self.status.value = "<p>Nothing to apply: the values equal the current state.</p>"
        else:
            self.status.value = self._preview_html()
            self._previewed = True
            self._previewed_requests = [r.to_dict() for r in self.plan.requests()]
        self._refresh()

    def _run(self, action: Callable[[], ApplyResult]) -> None:
        try:
            result = action()
        except ExpkitError as exc:
            # a failed or unverified apply/undo carries its result: each step's status first
            # (applied / not applied / rolled back / unknown), then the error in full
            outcome = getattr(exc, "result", None)
            shown = outcome._repr_html_() if isinstance(outcome, ApplyResult) else ""
            self.status.value = shown + _error_html(exc)
        else:
            self.status.value = result._repr_html_()
        self._previewed = False
        self._sync()
        self._refresh()

    def _on_apply(self) -> None:
        # click() runs handlers even on a disabled button: re-check
        if self.apply_button.disabled:
            return
        # the plan can be changed from code too, unseen by the controls: send only what was
        # previewed
        try:
            requests = [r.to_dict() for r in self.plan.requests()]
        except ExpkitError:  # made invalid from code
            requests = None
        if requests != self._previewed_requests:
            self._previewed = False
            self.status.value = (
                f'<p style="color:{_WARN}">The plan was changed since the preview (from '
                "code): nothing was sent. Preview it again.</p>"
            )
            self._refresh()
            return
        dry_run = self.dry_run.value
        # output from a button callback has no cell to go to: no progress bar
        self._run(lambda: self.plan.apply(dry_run=dry_run, progress=False))

    def _on_undo(self) -> None:
        if self.undo_button.disabled:
            return
        self._run(lambda: self.plan.undo(progress=False))

    def _on_reload(self) -> None:
        try:
            self.plan.reload()
        except ExpkitError as exc:
            self.status.value = _error_html(exc)
        else:
            self.status.value = "<p>Reloaded from the server; your pending change is kept.</p>"
        self._previewed = False
        self._sync()
        self._refresh()

    def _title(self) -> widgets.HTML:
        plan = self.plan
        kind = plan.kind[:-1]
        return widgets.HTML(
            f"<b>{html.escape(kind)} {html.escape(str(plan.key))}</b> "
            f"<small>(id {html.escape(plan.config_id)})</small>"
        )


class RolloutEditor(_Editor):
    """Weights, rollout percentage and on/off of one flag or experiment, over a RolloutEdit.

    Controls: ``weights[variant]`` (IntText), ``bars[variant]`` (FloatProgress: effective %
    of everyone else after the change), ``percentage`` (slider), ``enabled`` (Checkbox).
    """

    plan: RolloutEdit

    def __init__(
        self,
        client: EditClient,
        config_id: str | int,
        *,
        kind: str = "flags",
        audit_log: str | os.PathLike[str] | bool | None = None,
    ) -> None:
        self.plan = RolloutEdit.load(client, config_id, kind=kind, audit_log=audit_log)
        self._init_buttons()
        plan = self.plan
        self.weights: dict[str, widgets.IntText] = {}
        self.bars: dict[str, widgets.FloatProgress] = {}
        self.bar_labels: dict[str, widgets.HTML] = {}
        self._weight_rows = widgets.VBox(self._rows())
        pct = plan.percentage
        self.percentage = widgets.FloatSlider(
            value=float(pct if isinstance(pct, int | float) else 0.0),
            min=0.0,
            max=100.0,
            step=1.0,
            description="rollout %",
            continuous_update=False,
        )
        self.percentage.observe(self._forward(plan.set_percentage), names="value")
        self.enabled = widgets.Checkbox(value=bool(plan.enabled), description="enabled")
        self.enabled.observe(self._forward(plan.set_enabled), names="value")
        super().__init__(
            [
                self._title(),
                widgets.HTML("<small>Weights for users matched by no segment</small>"),
                self._weight_rows,
                self.percentage,
                self.enabled,
                self.validation,
                self._buttons(),
                self.status,
            ]
        )
        self._refresh()

    def _rows(self) -> list[widgets.HBox]:
        """A weight control, share bar and label per variant the plan has now."""
        plan = self.plan
        self.weights, self.bars, self.bar_labels = {}, {}, {}
        rows = []
        for key in plan.variant_keys:
            weight = plan.weights.get(key)
            self.weights[key] = widgets.IntText(
                value=int(weight or 0), description=key, layout=widgets.Layout(width="220px")
            )
            self.weights[key].observe(self._forward(self._weight_setter(key)), names="value")
            self.bars[key] = widgets.FloatProgress(min=0.0, max=100.0, value=0.0)
            self.bar_labels[key] = widgets.HTML()
            rows.append(widgets.HBox([self.weights[key], self.bars[key], self.bar_labels[key]]))
        return rows

    def _weight_setter(self, key: str) -> Callable[[Any], Any]:
        plan = self.plan
        return lambda value: plan.set_weights({key: value})

    def _follow_variants(self) -> list[str]:
        """One row per variant the server has now; weights typed for gone ones are dropped."""
        plan = self.plan
        keys = plan.variant_keys
        if list(self.weights) == keys:
            return []
        gone = [k for k in plan.weights if k not in keys]
        if gone:
            # RolloutEdit forgets only all at once: keep what still differs from the server
            config = plan.config
            base = config.get("rolloutWeights") or {}
            weights = {k: w for k, w in plan.weights.items() if k in keys and w != base.get(k, 0)}
            percentage, enabled = plan.percentage, plan.enabled
            plan.discard().set_weights(weights)
            if percentage != config.get("rolloutPercentage"):
                plan.set_percentage(percentage)
            if enabled != config.get("enabled"):
                plan.set_enabled(enabled)
        self._weight_rows.children = self._rows()
        self._note_gone(gone)
        return gone

    def _refresh(self) -> None:
        super()._refresh()
        import pandas as pd

        frame = self.plan.preview()
        variants: list[str] = [str(v) for v in frame["variant"]]
        effective: list[Any] = list(frame["effective_pct_after"])
        for variant, pct in zip(variants, effective, strict=True):
            missing = bool(pd.isna(pct))
            self.bars[variant].value = 0.0 if missing else float(pct)
            self.bars[variant].bar_style = "" if missing or pct == 0 else "info"
            self.bar_labels[variant].value = "—" if missing else f"{pct:.1f}%"

    def _sync(self) -> None:
        self._follow_variants()
        with self._quiet():
            for key, control in self.weights.items():
                weight = self.plan.weights.get(key)
                if isinstance(weight, int) and not isinstance(weight, bool):
                    control.value = weight
            pct = self.plan.percentage
            if isinstance(pct, int | float) and not isinstance(pct, bool):
                self.percentage.value = float(pct)
            if isinstance(self.plan.enabled, bool):
                self.enabled.value = self.plan.enabled


class PayloadEditor(_Editor):
    """The JSON payload of each variant, over a PayloadEdit.

    Controls: ``variant`` (Dropdown), ``text`` (Textarea, validated as you type),
    ``format_button`` (pretty-prints valid JSON), ``before`` / ``after`` (HTML views).
    """

    plan: PayloadEdit

    def __init__(
        self,
        client: EditClient,
        config_id: str | int,
        *,
        kind: str = "flags",
        audit_log: str | os.PathLike[str] | bool | None = None,
    ) -> None:
        self.plan = PayloadEdit.load(client, config_id, kind=kind, audit_log=audit_log)
        self._init_buttons()
        # what was typed per variant: switching variants never loses an edit
        self._texts: dict[str, str] = {}
        self.variant = self._variant_picker(self._show_variant)
        self.text = widgets.Textarea(
            layout=widgets.Layout(width="100%", height="12em"), placeholder='{"key": "value"}'
        )
        self.format_button = widgets.Button(description="Format", icon="indent")
        self.before = widgets.HTML()
        self.after = widgets.HTML()
        self.text.observe(self._forward(self._set_text), names="value")
        self.format_button.on_click(lambda _: self._format())
        super().__init__(
            [
                self._title(),
                self.variant,
                self.text,
                widgets.HBox([self.format_button]),
                self.validation,
                widgets.HBox(
                    [
                        # half the width each, with a gap: "before" and "after" never run together
                        _labelled("before", self.before, layout=_half()),
                        _labelled("after", self.after, layout=_half()),
                    ]
                ),
                self._buttons(),
                self.status,
            ]
        )
        self._show_variant()

    def _set_text(self, text: str) -> None:
        key = self.variant.value
        if key is None:
            return
        self._texts[key] = text
        self.plan.set_payload(key, text)

    def _show_variant(self) -> None:
        key = self.variant.value
        with self._quiet():
            if key is not None:
                self.text.value = self._texts.get(key, payload_text(self.plan.before(key)))
        self._refresh()

    def _format(self) -> None:
        try:
            value = parse_payload(self.text.value)
        except ValueError:
            self._refresh()  # the validation line already says why
            return
        self.text.value = payload_text(value)

    def _refresh(self) -> None:
        super()._refresh()
        key = self.variant.value
        if key is None:
            return
        self.before.value = f"<pre>{html.escape(payload_text(self.plan.before(key)))}</pre>"
        try:
            after = payload_text(self.plan.after(key))
        except ValueError as exc:
            self.after.value = f'<pre style="color:{_ERR}">{html.escape(str(exc))}</pre>'
        else:
            self.after.value = f"<pre>{html.escape(after)}</pre>"

    def _sync(self) -> None:
        gone = self._follow_variants()
        # after apply/undo the plan starts from the server's payloads: drop typed texts
        # that are now applied (or whose variant is gone), keep the ones still pending
        self._texts = {
            k: t for k, t in self._texts.items() if k not in gone and self._pending(k, t)
        }
        # what the editor shows is what the plan holds (an unverified apply clears the plan)
        for key, text in self._texts.items():
            self.plan.set_payload(key, text)
        self._show_variant()

    def _pending(self, key: str, text: str) -> bool:
        try:
            return json.dumps(parse_payload(text)) != json.dumps(self.plan.before(key))
        except ValueError:
            return True


class InclusionsEditor(_Editor):
    """Users and cohorts included in each variant, over an InclusionsEdit.

    Controls: ``variant`` (Dropdown), ``counts`` (HTML, against the 2,000 limit),
    ``add_users`` / ``add_cohorts`` (Textarea: paste comma- or newline-separated ids),
    ``remove_users`` / ``remove_cohorts`` (SelectMultiple of the current ones).
    """

    plan: InclusionsEdit

    def __init__(
        self,
        client: EditClient,
        config_id: str | int,
        *,
        kind: str = "flags",
        audit_log: str | os.PathLike[str] | bool | None = None,
    ) -> None:
        self.plan = InclusionsEdit.load(client, config_id, kind=kind, audit_log=audit_log)
        self._init_buttons()
        self.variant = self._variant_picker(self._sync)
        self.counts = widgets.HTML()
        area = widgets.Layout(width="100%", height="6em")
        self.add_users = widgets.Textarea(
            placeholder="user ids, comma or newline separated", layout=area
        )
        self.add_cohorts = widgets.Textarea(placeholder="cohort ids", layout=area)
        pick = widgets.Layout(width="100%", height="8em")
        self.remove_users = widgets.SelectMultiple(options=[], layout=pick)
        self.remove_cohorts = widgets.SelectMultiple(options=[], layout=pick)
        # a list has no placeholder: a line under each says what it holds, or that it is empty
        self.remove_users_hint = widgets.HTML()
        self.remove_cohorts_hint = widgets.HTML()
        for control in (self.add_users, self.add_cohorts, self.remove_users, self.remove_cohorts):
            control.observe(self._forward(lambda _: self._record()), names="value")
        # half the width each, with a gap, so the lists stop short of the right edge
        column = widgets.Layout(width="50%", padding="0 16px 0 0")
        super().__init__(
            [
                self._title(),
                self.variant,
                self.counts,
                widgets.HBox(
                    [
                        _labelled("add users", self.add_users, layout=column),
                        _labelled(
                            "remove users",
                            widgets.VBox([self.remove_users, self.remove_users_hint]),
                            layout=column,
                        ),
                    ]
                ),
                widgets.HBox(
                    [
                        _labelled("add cohorts", self.add_cohorts, layout=column),
                        _labelled(
                            "remove cohorts",
                            widgets.VBox([self.remove_cohorts, self.remove_cohorts_hint]),
                            layout=column,
                        ),
                    ]
                ),
                self.validation,
                self._buttons(),
                self.status,
            ]
        )
        self._sync()

    def _record(self) -> None:
        key = self.variant.value
        if key is None:
            return
        self.plan.set_changes(
            key,
            add_users=self.add_users.value,
            add_cohorts=self.add_cohorts.value,
            remove_users=list(self.remove_users.value),
            remove_cohorts=list(self.remove_cohorts.value),
        )

    def _sync(self) -> None:
        self._follow_variants()
        key = self.variant.value
        if key is None:
            return
        current = self.plan.current(key)
        pending = self.plan.pending(key)
        with self._quiet():
            self.remove_users.options = current["users"]
            self.remove_cohorts.options = current["cohorts"]
            self.remove_users.value = tuple(
                u for u in pending["remove_users"] if u in current["users"]
            )
            self.remove_cohorts.value = tuple(
                c for c in pending["remove_cohorts"] if c in current["cohorts"]
            )
            self.add_users.value = "\n".join(pending["add_users"])
            self.add_cohorts.value = "\n".join(pending["add_cohorts"])
        self.remove_users_hint.value = _list_hint(current["users"], "user", key)
        self.remove_cohorts_hint.value = _list_hint(current["cohorts"], "cohort", key)
        # what the editor shows is what the plan holds: a removal the server already made
        # (seen on reload) is dropped, not left as an error no control can clear
        self._record()
        self._refresh()

    def _refresh(self) -> None:
        super()._refresh()
        key = self.variant.value
        if key is None:
            self.counts.value = ""
            return
        c = self.plan.counts(key)

        def part(label: str, before: int, after: int) -> str:
            color = _ERR if after > MAX_INCLUSIONS else _WARN if after >= 1800 else "inherit"
            change = f"{before:,} → {after:,}" if after != before else f"{before:,}"
            return f'<span style="color:{color}">{label}: {change} of {MAX_INCLUSIONS:,}</span>'

        self.counts.value = (
            part("users", c["users_before"], c["users_after"])
            + " · "
            + part("cohorts", c["cohorts_before"], c["cohorts_after"])
        )


# ------------------------------------------------------------------------- cleanup

_ALL = "(all)"
STALE_RULES = ("fully-rolled-out", "inactive")


class CleanupEditor(widgets.VBox):
    """The findings as a table with a checkbox per config, over ``LifecycleEdit``.

    Pick an action (archive, unarchive, disable, enable), narrow the table with the rule,
    severity and owner filters, tick the configs (the stale rules' configs start ticked),
    then Preview: the plan's table, and the blocked configs listed with their reasons. Apply
    is enabled only after a preview of exactly what is selected now (the ticked configs
    the filters show, and the action); any change disables it until the next preview.
    Apply checks each config against the server first, so configs changed since the
    preview are reported (``conflict``, ``blocked``, ``no-op``), never sent blindly;
    Undo undoes exactly the configs the last apply changed. Controls are attributes::

        editor = CleanupEditor(client, findings)
        editor.checkboxes["512676"].value = False
        editor.action.value = "disable"
        editor.preview_button.click(); editor.apply_button.click()
    """

    def __init__(
        self,
        client: EditClient,
        findings: Any,
        *,
        refs: Any = None,
        force: bool = False,
        preselect: tuple[str, ...] = STALE_RULES,
        audit_log: str | os.PathLike[str] | bool | None = None,
    ) -> None:
        from expkit.edits import ACTIONS

        self.client = client
        self._refs = refs
        self._force = force
        self._audit_log = audit_log
        self.plan: Any = None
        # the plan of the last apply: Undo undoes it, whatever has been previewed since
        self.applied_plan: Any = None
        self._configs = _findings_by_config(findings)
        self._previewed: tuple[str, tuple[str, ...]] | None = None

        self.action = widgets.Dropdown(options=ACTIONS, value="archive", description="action")
        rules = sorted({r for c in self._configs.values() for r in c["rules"]})
        owners = sorted({c["owner"] for c in self._configs.values() if c["owner"]})
        self.rule_filter = widgets.Dropdown(options=[_ALL, *rules], value=_ALL, description="rule")
        self.severity_filter = widgets.Dropdown(
            options=[_ALL, "error", "warning", "info"], value=_ALL, description="severity"
        )
        self.owner_filter = widgets.Dropdown(
            options=[_ALL, *owners], value=_ALL, description="owner"
        )
        self.checkboxes: dict[str, widgets.Checkbox] = {}
        self._rows: dict[str, widgets.HBox] = {}
        for cid, info in self._configs.items():
            box = widgets.Checkbox(
                value=bool(set(info["rules"]) & set(preselect)),
                indent=False,
                layout=widgets.Layout(width="2em"),
            )
            box.observe(lambda _: self._changed(), names="value")
            self.checkboxes[cid] = box
            self._rows[cid] = widgets.HBox([box, widgets.HTML(_config_cells(cid, info))])
        self.select_all_button = widgets.Button(description="Select shown", icon="check-square")
        self.select_none_button = widgets.Button(description="Clear shown", icon="square")
        self.table = widgets.VBox()
        self.selection = widgets.HTML()
        self.preview_button = widgets.Button(description="Preview", icon="eye")
        self.apply_button = widgets.Button(
            description="Apply", icon="check", button_style="danger", disabled=True
        )
        self.undo_button = widgets.Button(description="Undo", icon="undo", disabled=True)
        self.dry_run = widgets.Checkbox(value=False, description="dry run", indent=False)
        self.plan_table = widgets.HTML()
        self.blocked_list = widgets.HTML()
        self.status = widgets.HTML()

        for control in (self.action, self.rule_filter, self.severity_filter, self.owner_filter):
            control.observe(lambda _: self._changed(), names="value")
        self.select_all_button.on_click(lambda _: self._tick_shown(True))
        self.select_none_button.on_click(lambda _: self._tick_shown(False))
        self.preview_button.on_click(lambda _: self._on_preview())
        self.apply_button.on_click(lambda _: self._on_apply())
        self.undo_button.on_click(lambda _: self._on_undo())
        super().__init__(
            [
                widgets.HTML(f"<h4>Clean up: {len(self._configs)} config(s) with findings</h4>"),
                widgets.HBox([self.rule_filter, self.severity_filter, self.owner_filter]),
                widgets.HBox([self.select_all_button, self.select_none_button, self.selection]),
                self.table,
                widgets.HBox(
                    [
                        self.action,
                        self.preview_button,
                        self.apply_button,
                        self.dry_run,
                        self.undo_button,
                    ]
                ),
                self.plan_table,
                self.blocked_list,
                self.status,
            ]
        )
        self._changed()

    # -- what is selected -------------------------------------------------------------------
    def shown(self) -> list[str]:
        """The ids the filters show, in table order."""
        out = []
        rule, severity, owner = (
            self.rule_filter.value,
            self.severity_filter.value,
            self.owner_filter.value,
        )
        for cid, info in self._configs.items():
            if rule != _ALL and rule not in info["rules"]:
                continue
            if severity != _ALL and severity not in info["severities"]:
                continue
            if owner != _ALL and info["owner"] != owner:
                continue
            out.append(cid)
        return out

    def selected(self) -> list[str]:
        """The ids that Preview and Apply act on: ticked and shown by the filters."""
        return [cid for cid in self.shown() if self.checkboxes[cid].value]

    def _selection_key(self) -> tuple[str, tuple[str, ...]]:
        return (str(self.action.value), tuple(self.selected()))

    def _tick_shown(self, value: bool) -> None:
        for cid in self.shown():
            self.checkboxes[cid].value = value

    def _changed(self) -> None:
        shown = self.shown()
        self.table.children = [self._rows[cid] for cid in shown]
        ticked_hidden = sum(
            1 for cid, box in self.checkboxes.items() if box.value and cid not in set(shown)
        )
        note = f" ({ticked_hidden} ticked but hidden by the filters: not included)"
        self.selection.value = (
            f"<span>{len(self.selected())} selected of {len(shown)} shown"
            f"{note if ticked_hidden else ''}</span>"
        )
        self._refresh()

    def _refresh(self) -> None:
        ready = self.plan is not None and self.plan.has_changes
        self.apply_button.disabled = not (
            ready and self._previewed is not None and self._previewed == self._selection_key()
        )
        self.undo_button.disabled = not (
            self.applied_plan is not None and self.applied_plan.can_undo
        )

    # -- actions ----------------------------------------------------------------------------
    def _frame(self, ids: list[str]) -> Any:
        import pandas as pd

        return pd.DataFrame(
            {"id": ids, "kind": [self._configs[cid]["kind"] for cid in ids]}
        ).astype("string")

    def _on_preview(self) -> None:
        from expkit.edits import LifecycleEdit

        key = self._selection_key()
        ids = list(key[1])
        self._previewed = None
        self.plan_table.value = ""
        self.blocked_list.value = ""
        if not ids:
            self.status.value = "<p>Nothing selected: tick the configs to act on.</p>"
            self._refresh()
            return
        try:
            plan = LifecycleEdit.load(
                self.client,
                self._frame(ids),
                action=key[0],
                refs=self._refs,
                force=self._force,
                audit_log=self._audit_log,
            )
        except (ExpkitError, KeyboardInterrupt) as exc:
            self.status.value = _error_html(exc)
            self._refresh()
            return
        self.plan = plan
        self._previewed = key
        self.plan_table.value = self._plan_html()
        self.blocked_list.value = self._blocked_html()
        counts = plan.counts()
        self.status.value = (
            f"<p>Preview: {counts['ready']} ready, {counts['blocked']} blocked, "
            f"{counts['no-op']} no-op; about {plan.n_requests:,} request(s).</p>"
        )
        self._refresh()

    def _plan_html(self) -> str:
        frame = self.plan.preview()
        return '<div class="expkit-plan">' + frame.to_html(index=False, na_rep="") + "</div>"

    def _blocked_html(self) -> str:
        frame = self.plan.blocked
        if frame.empty:
            return ""
        items = "".join(
            f"<li><b>{html.escape(str(k))}</b> ({html.escape(str(i))}): {html.escape(str(r))}</li>"
            for i, k, r in zip(frame["id"], frame["key"], frame["reason"], strict=True)
        )
        return (
            f'<div class="expkit-blocked"><b>Blocked, never sent ({len(frame)})</b>'
            f"<ul>{items}</ul></div>"
        )

    def _show_result(self, result: Any) -> None:
        self.status.value = (
            f'<div class="expkit-result">{result._repr_html_()}</div>' if result is not None else ""
        )

    def _on_apply(self) -> None:
        if self.plan is None or self._previewed != self._selection_key():
            self._refresh()
            return
        try:
            result = self.plan.apply(dry_run=self.dry_run.value, progress=False)
        except (ExpkitError, KeyboardInterrupt) as exc:
            self.status.value = _error_html(exc)
        else:
            self._show_result(result)
        if self.plan.can_undo:
            self.applied_plan = self.plan
        # what changed on the server is in the plan now: preview again before the next apply
        self._previewed = None
        self.plan_table.value = self._plan_html()
        self.blocked_list.value = self._blocked_html()
        self._refresh()

    def _on_undo(self) -> None:
        plan = self.applied_plan
        if plan is None or not plan.can_undo:
            self._refresh()
            return
        try:
            result = plan.undo(progress=False)
        except (ExpkitError, KeyboardInterrupt) as exc:
            self.status.value = _error_html(exc)
        else:
            self._show_result(result)
        # the server changed: preview again before the next apply
        self._previewed = None
        if plan is self.plan:
            self.plan_table.value = self._plan_html()
            self.blocked_list.value = self._blocked_html()
        self._refresh()


def _findings_by_config(findings: Any) -> dict[str, dict[str, Any]]:
    """id -> kind, key, rules, severities, owner: one entry per config of the findings."""
    from expkit.errors import ValidationError

    columns = [str(c) for c in getattr(findings, "columns", [])]
    missing = [c for c in ("id", "kind", "rule") if c not in columns]
    if missing:
        raise ValidationError(
            f"findings: no {', '.join(missing)} column(s) (it has {', '.join(columns) or 'none'}).",
            field="findings",
            value=columns,
            allowed="a findings DataFrame from expkit.hygiene.check",
        )
    out: dict[str, dict[str, Any]] = {}
    for record in findings.to_dict("records"):
        cid = record.get("id")
        if cid is None or str(cid) in ("", "<NA>", "nan"):
            continue
        cid = str(cid)
        entry = out.setdefault(
            cid,
            {
                "kind": str(record.get("kind")),
                "key": record.get("key"),
                "rules": [],
                "severities": [],
                "owner": None,
                "details": [],
            },
        )
        if entry["kind"] != str(record.get("kind")):
            raise ValidationError(
                f"findings: id {cid} is both a {entry['kind']} and a {record.get('kind')}.",
                field="findings.id",
                value=cid,
            )
        entry["rules"].append(str(record.get("rule")))
        entry["severities"].append(str(record.get("severity")))
        owner = record.get("owner")
        if owner is not None and str(owner) not in ("", "<NA>", "nan"):
            entry["owner"] = str(owner)
        if record.get("detail") is not None:
            entry["details"].append(str(record.get("detail")))
    return out


def _config_cells(cid: str, info: dict[str, Any]) -> str:
    rules = ", ".join(dict.fromkeys(info["rules"]))
    owner = info["owner"] or "—"
    return (
        f'<span class="expkit-config"><code>{html.escape(str(info["key"]))}</code> '
        f"({html.escape(info['kind'])} {html.escape(cid)}) · {html.escape(rules)} · "
        f"{html.escape(owner)}</span>"
    )
