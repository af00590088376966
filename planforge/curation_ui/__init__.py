"""Curation: preference pairs (student plans, typed corruptions) and human review in Argilla.

One concept per module:

* :mod:`~planforge.curation_ui.corruptions` -- typed corruptions of a valid plan, each checked really wrong (pure);
* :mod:`~planforge.curation_ui.students` -- weaker planners (OpenAI-compatible endpoint, local transformers model);
* :mod:`~planforge.curation_ui.verdicts` -- one plan's validator verdict (parse, validate, equivalence);
* :mod:`~planforge.curation_ui.pairs` -- ``gen pairs``: chosen/rejected rows TRL's DPOTrainer reads as is;
* :mod:`~planforge.curation_ui.rendering` -- plans as reviewers read them, with what each ``$K`` refers to (pure);
* :mod:`~planforge.curation_ui.argilla_settings` -- the review dataset's settings, records and the A/B mapping;
* :mod:`~planforge.curation_ui.connection` -- credentials, server checks, one-line errors, dataset lookup;
* :mod:`~planforge.curation_ui.push` / :mod:`~planforge.curation_ui.pull` / :mod:`~planforge.curation_ui.status`
  -- ``gen review push|pull|status``;
* :mod:`~planforge.curation_ui.agreement` -- Cohen's and Fleiss' kappa, majority votes (pure);
* :mod:`~planforge.curation_ui.outputs` -- output folders written whole or not at all;
* :mod:`~planforge.curation_ui.cli` -- the typer commands (``pairs`` and ``review_app``).

Importing this package is cheap: datasets, argilla and torch load inside the modules and commands that use them.
"""
