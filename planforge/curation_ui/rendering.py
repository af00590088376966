"""Plans as reviewers read them: numbered steps, named arguments, and what each ``$K`` refers to.

Pure functions of (plan, tools). A plan that cannot be parsed is shown as written under a one-line note, so a
student's broken output still reaches the reviewer.

    1. get_email_address(name="Sid")
    2. get_zoom_meeting_link(topic="Apple sync", start_time="2026-11-22 15:00:00", duration=60, meeting_invitees=["$1"])
         $1 = result of step 1: get_email_address("Sid")
    3. join()
"""

from __future__ import annotations

from planforge.dataset.rows import parse_row_plan
from planforge.errors import PlanSyntaxError
from planforge.plan import JOIN, Plan, Step, format_value, named_arguments
from planforge.prompting import render_function
from planforge.tools import ToolSet

INDENT = "     "


def _arguments(step: Step, tools: ToolSet | None) -> str:
    if tools is not None and step.name in tools:
        named, extra, _ = named_arguments(step, tools.param_order[step.name])
        parts = [f"{k}={format_value(v)}" for k, v in named.items()]
        parts += [format_value(v) for v in extra]
    else:
        parts = [format_value(v) for v in step.args] + [f"{k}={format_value(v)}" for k, v in step.kwargs.items()]
    return ", ".join(parts)


def short_call(step: Step) -> str:
    """``name("first argument", ...)``: enough to recognise a step."""
    values = [*step.args, *step.kwargs.values()]
    if not values:
        return f"{step.name}()"
    first = format_value(values[0])
    if len(first) > 40:
        first = first[:39] + "…"
    return f"{step.name}({first}{', ...' if len(values) > 1 else ''})"


def describe_reference(plan: Plan, step: Step, k: int) -> str:
    """What ``$k`` in ``step`` refers to, in words (including why a broken reference is broken)."""
    if k == 0:
        return "no such step (steps are numbered from 1)"
    if k > len(plan.steps):
        return f"no such step (the plan has {len(plan.steps)})"
    if k == step.index:
        return "this same step (a step cannot use its own result)"
    if k > step.index:
        return f"step {k}, which comes later (not available yet)"
    producer = plan.steps[k - 1]
    if producer.name == JOIN:
        return f"step {k}: join(), which has no result"
    return f"result of step {k}: {short_call(producer)}"


def render_plan(plan: Plan, tools: ToolSet | None = None) -> str:
    """One line per step (named arguments), then one indented line per ``$K`` the step uses."""
    lines: list[str] = []
    for step in plan.steps:
        if step.thought:
            lines.append(f"   Thought: {step.thought}")
        lines.append(f"{step.index}. {step.name}({_arguments(step, tools)})")
        for k in dict.fromkeys(step.references or ()):
            lines.append(f"{INDENT}${k} = {describe_reference(plan, step, k)}")
    if not plan.steps:
        lines.append("(no steps)")
    return "\n".join(lines)


def render_plan_text(text: str, tools: ToolSet) -> str:
    """A plan as a model wrote it (LLMCompiler text or JSON): readable form, or the raw text with the parse error."""
    try:
        plan = parse_row_plan(text, tools)
    except PlanSyntaxError as exc:
        return f"(this plan cannot be read: {exc})\n\n{text.strip()}"
    return render_plan(plan, tools)


def render_functions(tools: ToolSet) -> str:
    """The offered functions as the planner saw them (signature, description, one line per argument)."""
    return "\n\n".join(render_function(spec) for spec in tools.specs)


def render_request(query: str, now: str | None = None) -> str:
    return f"{query}\n\n(current date and time: {now})" if now else query
