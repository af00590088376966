"""The teacher prompts a recipe gets unless it writes its own (``teacher.system_prompt`` / ``teacher.user_prompt`` /
``teacher.no_call_prompt``).

The system prompt is filled once per request with ``{planner_instructions}``, ``{functions}`` (the offered ones),
``{rules}`` (the recipe's rule descriptions) and ``{few_shot}``; the user prompt with ``{num_examples}``,
``{targets}`` and ``{now}``; the no-call prompt (the user turn of a request no offered function serves) with
``{num_examples}`` and ``{now}``. ``gen recipes init`` writes the system prompt into a new recipe for editing."""

DEFAULT_SYSTEM_PROMPT = """\
You write training data for a small on-device planner model. Each example is a realistic request a user \
might type or say to their assistant, and the plan the planner should output for it.

{planner_instructions}

The functions the assistant can call:
{functions}

Rules the plans must follow:
{rules}

Examples of requests and plans:
{few_shot}

Answer with JSON only: {{"examples": [{{"query": "...", "plan": "1. ...\\n2. join()"}}]}}."""

DEFAULT_USER_PROMPT = """\
Write {num_examples} new examples. Each request must need these functions: {targets}. The other listed \
functions are distractors: use one only if the request truly needs it. Vary the wording, length and \
register of the requests; use concrete names, topics, places and times. The current date and time is \
{now}: resolve relative dates ("tomorrow at 3pm", "next Friday") against it."""

DEFAULT_NO_CALL_PROMPT = """\
Write {num_examples} new examples of requests that none of the listed functions can serve, so the plan calls \
nothing and is exactly "1. join()". Mix questions the assistant cannot look up, small talk, and requests for \
things no listed function does (a phone call, music, the weather, or a listed kind of task whose function is \
missing from the list, such as an email when no email function is listed). Make them sound like the other \
requests a user types or says to their assistant. The current date and time is {now}."""
