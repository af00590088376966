"""Requests no function can serve, for relevance detection: their plan is the empty plan (``1. join()``).

Three kinds, as a planner meets them: **questions** it cannot look up ("What's the capital of Peru?"),
**chit-chat** ("thanks, that's all"), and **requests for functions the assistant does not have** ("call Mom",
"play some jazz", "turn off the kitchen lights"). The template teacher writes a fourth kind from its grammar: a
request for a function of the recipe that was not offered (with ToolRAG or sampled function subsets, "email Sid"
when no email function is shown is a no-call too; :meth:`TemplateTeacher.reply`).

The phrasing here is the offline teacher's, for assistants like the bundled ``mac_assistant``: none of it is a
thing a contacts, mail, calendar, notes, reminders, maps, messages, files or zoom function does. A recipe whose
functions do one of these (a weather function, a phone call) should not ask for no-call examples from the
template teacher (``sampling.no_call_share: 0``) or write its own."""

from __future__ import annotations

import random
from collections.abc import Sequence

#: the plan of every no-call example: nothing to call, the plan's end
EMPTY_PLAN = "1. join()"

KINDS = ("question", "chit_chat", "out_of_scope")

_FILL = {
    "country": ["Peru", "Portugal", "Kenya", "Vietnam", "Norway", "Chile", "Morocco", "New Zealand", "Canada"],
    "city": ["Lisbon", "Tokyo", "Denver", "Nairobi", "Oslo", "Austin", "Seoul", "Montreal", "Lima", "Prague"],
    "landmark": ["the Eiffel Tower", "Mount Everest", "the Golden Gate Bridge", "Big Ben", "the Space Needle"],
    "book": ["Moby-Dick", "Pride and Prejudice", "The Hobbit", "Beloved", "Dune", "Middlemarch"],
    "word": ["serendipity", "ephemeral", "ubiquitous", "laconic", "petrichor", "sonder"],
    "topic": ["penguins", "coffee", "cats", "Mondays", "computers", "pirates", "dentists", "the ocean"],
    "artist": ["Miles Davis", "Taylor Swift", "Radiohead", "Beyonce", "Bach", "Fleetwood Mac", "Nina Simone"],
    "genre": ["jazz", "lo-fi beats", "classical music", "some podcasts", "80s pop", "rain sounds"],
    "room": ["kitchen", "living room", "bedroom", "office", "porch", "garage"],
    "food": ["large pepperoni pizza", "pad thai", "burrito bowl", "sushi platter", "veggie burger"],
    "language": ["Spanish", "French", "Japanese", "German", "Italian", "Korean"],
    "phrase": ["where is the train station", "good morning", "thank you very much", "how much is this"],
    "minutes": ["5", "10", "12", "20", "25", "45"],
    "amount": ["3", "12", "40", "150", "2.5", "1000"],
    "units": [("miles", "kilometers"), ("cups", "milliliters"), ("pounds", "kilograms"), ("feet", "meters")],
    "team": ["the Warriors", "the Giants", "the 49ers", "Arsenal", "the Yankees"],
    "app": ["Spotify", "Slack", "Photoshop", "Xcode", "the App Store"],
    "setting": ["dark mode", "Do Not Disturb", "Bluetooth", "the Wi-Fi", "night shift"],
    "stock": ["Apple", "Nvidia", "Tesla", "Microsoft"],
}

_TEMPLATES: dict[str, tuple[str, ...]] = {
    "question": (
        "What's the capital of {country}?",
        "How tall is {landmark}?",
        "Who wrote {book}?",
        "What does {word} mean?",
        "Why is the sky blue?",
        "How many {unit_a} are in {amount} {unit_b}?",
        "What time is it in {city} right now?",
        "Is {country} in the southern hemisphere?",
        "How do you pronounce {word}?",
        "Did {team} win last night?",
        "What's a good recipe for banana bread?",
        "How much is {stock} stock trading at?",
        "Who was the first person on the moon?",
        "Can you explain how a rainbow forms?",
        "What year did {book} come out?",
        "What's the population of {city}?",
    ),
    "chit_chat": (
        "Thanks, that's all for now.",
        "Good morning!",
        "How are you doing today?",
        "Tell me a joke about {topic}.",
        "You're the best, thank you",
        "I'm so bored right now",
        "What's your name?",
        "Never mind.",
        "Do you like {topic}?",
        "Ok, cool.",
        "Hey, are you there?",
        "Ugh, what a long day.",
        "Say something funny about {topic}",
        "That's great, thanks a lot!",
        "Sorry, wrong button.",
        "What's your favorite fact about {topic}?",
    ),
    "out_of_scope": (
        "Call {person}.",
        "Give {person} a ring on FaceTime",
        "Play {artist} on {app}",
        "Put on {genre}",
        "Turn off the {room} lights",
        "Set a timer for {minutes} minutes",
        "What's the weather going to be like in {city} tomorrow?",
        "Order a {food} for dinner",
        "Book me a flight to {city} next week",
        "Translate '{phrase}' into {language}",
        "Convert {amount} {unit_a} to {unit_b}",
        "Turn on {setting}",
        "Take a screenshot of my desktop",
        "Empty the trash",
        "Check my bank balance",
        "Update {app} to the latest version",
        "Get me an Uber to {place}",
        "Buy two tickets to see {artist}",
        "Lock the front door",
        "Restart my Mac",
        "Post a photo of {place} on Instagram",
        "Turn the volume up",
        "Start a workout",
    ),
}


def compose_no_call(
    rng: random.Random,
    *,
    people: Sequence[str] = ("Mom", "Sid", "Maya"),
    places: Sequence[str] = ("the Ferry Building",),
    kind: str | None = None,
) -> dict[str, str]:
    """One no-call example, ``{"query", "plan", "kind"}``: a question, chit-chat or a request for something no
    function does (``kind``: one of :data:`KINDS`, drawn when None). ``people`` and ``places``: names the
    request may use (the recipe's, so they read like its other requests)."""
    kind = kind or rng.choice(KINDS)
    template = rng.choice(_TEMPLATES[kind])
    unit_a, unit_b = rng.choice(_FILL["units"])
    fill = {key: rng.choice(values) for key, values in _FILL.items() if key != "units"}
    fill.update(unit_a=unit_a, unit_b=unit_b, person=rng.choice(list(people)), place=rng.choice(list(places)))
    return {"query": template.format(**fill), "plan": EMPTY_PLAN, "kind": kind}


def templates() -> dict[str, tuple[str, ...]]:
    """The templates by kind (for tests and audits)."""
    return dict(_TEMPLATES)
