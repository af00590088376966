import random

from planforge.plan import Plan, Step, parse_plan
from planforge.structures import (
    canonical_key,
    describe,
    is_parallel,
    max_fan_in,
    people_looked_up,
    step_count,
    structure_key,
)
from planforge.validators import plans_equivalent

ZOOM_BOTH = """1. get_email_address("Sid")
2. get_zoom_meeting_link("sync", "2026-03-10 15:00:00", 60, ["$1"])
3. create_calendar_event("sync", "2026-03-10 15:00:00", "2026-03-10 16:00:00", "$2", ["$1"], "", None)
4. compose_new_email(["$1"], [], "", "$2", [])
5. join()"""

SAME_RENUMBERED = """1. get_email_address("Maya")
2. get_zoom_meeting_link("other", "2026-04-01 09:00:00", 30, ["$1"])
3. compose_new_email(["$1"], [], "x", "$2", [])
4. create_calendar_event("other", "2026-04-01 09:00:00", "2026-04-01 09:30:00", "$2", ["$1"], "", "Work")
5. join()"""

EMAIL_TWO_FILES = """1. open_and_get_file_path("a")
2. open_and_get_file_path("b")
3. open_and_get_file_path("c")
4. summarize_pdf("$1")
5. get_email_address("Sid")
6. compose_new_email(["$5"], [], "", "$4", ["$1", "$2"])
7. join()"""


def test_equal_keys_for_renumbered_plans_with_other_arguments():
    a, b = parse_plan(ZOOM_BOTH), parse_plan(SAME_RENUMBERED)
    assert structure_key(a) == structure_key(b)
    assert describe(structure_key(a)) == (
        "compose_new_email(get_email_address, get_zoom_meeting_link); "
        "create_calendar_event(get_email_address, get_zoom_meeting_link); "
        "get_zoom_meeting_link(get_email_address)"
    )


def test_which_file_is_summarized_matters():
    plan = parse_plan(EMAIL_TWO_FILES)
    other = parse_plan(EMAIL_TWO_FILES.replace('summarize_pdf("$1")', 'summarize_pdf("$3")'))
    assert structure_key(plan) != structure_key(other)  # summarizing a non-attached file is another plan
    assert step_count(plan) == 6 and max_fan_in(plan) == 4
    assert "3" not in describe(structure_key(plan)) and "open_and_get_file_path" in describe(structure_key(plan))


def test_parallel_means_two_people_looked_up():
    one_person_twice = parse_plan(
        '1. get_email_address("Sid")\n2. get_phone_number("Sid")\n'
        '3. compose_new_email(["$1"], [], "", "", [])\n4. send_sms(["$2"], "hi")\n5. join()'
    )
    two_people = parse_plan(
        '1. get_phone_number("Sid")\n2. get_phone_number("Maya")\n3. send_sms(["$1", "$2"], "hi")\n4. join()'
    )
    assert people_looked_up(one_person_twice) == 1 and not is_parallel(one_person_twice)
    assert people_looked_up(two_people) == 2 and is_parallel(two_people)


def test_twins_cost_one_order_and_keys_stay_exact():
    lookups = "\n".join(f'{i}. get_phone_number("p{i}")' for i in range(1, 11))
    refs = ", ".join(f'"${i}"' for i in range(1, 11))
    plan = parse_plan(f'{lookups}\n11. send_sms([{refs}], "hi")\n12. join()')
    wires = ",".join(f"{i}>10" for i in range(10))
    assert structure_key(plan) == ",".join(["get_phone_number"] * 10) + ",send_sms|" + wires


def _random_plan(rng: random.Random, n: int) -> Plan:
    names = [rng.choice("abc") for _ in range(n)]
    steps = []
    for i in range(n):
        refs = [f"${k}" for k in range(1, i + 1) if rng.random() < 0.35]
        steps.append(Step(i + 1, names[i], (refs,)))
    return Plan(tuple(steps))


def _shuffled(plan: Plan, rng: random.Random) -> Plan:
    """The same DAG numbered in another topological order."""
    n = len(plan.steps)
    deps = {s.index: {int(r[1:]) for r in s.args[0]} for s in plan.steps}
    order, placed = [], set()
    while len(order) < n:
        ready = [i for i in range(1, n + 1) if i not in placed and deps[i] <= placed]
        pick = rng.choice(ready)
        order.append(pick)
        placed.add(pick)
    new = {old: i + 1 for i, old in enumerate(order)}
    steps = [Step(new[old], plan.steps[old - 1].name, ([f"${new[d]}" for d in sorted(deps[old])],)) for old in order]
    return Plan(tuple(steps))


def test_keys_agree_with_the_isomorphism_check_on_random_dags():
    rng = random.Random(0)
    for _ in range(300):
        n = rng.randint(1, 7)
        a = _random_plan(rng, n)
        b = _shuffled(a, rng) if rng.random() < 0.5 else _random_plan(rng, n)
        assert (structure_key(a) == structure_key(b)) == plans_equivalent(a, b), (a, b)


def test_canonical_key_of_an_abstract_graph_matches_the_plan():
    assert canonical_key(("summarize_pdf", "open_and_get_file_path"), ((1, 0),)) == structure_key(
        parse_plan('1. open_and_get_file_path("x")\n2. summarize_pdf("$1")\n3. join()')
    )
