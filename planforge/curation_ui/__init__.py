"""Curation: people review preference pairs in Argilla, and their verdicts come back as DPO data.

One concept per module:

* :mod:`~planforge.curation_ui.rendering` -- plans as reviewers read them, with what each ``$K`` refers to (pure);
* :mod:`~planforge.curation_ui.argilla_settings` -- the review dataset's settings, records and the A/B mapping;
* :mod:`~planforge.curation_ui.connection` -- credentials, server checks, one-line errors, dataset lookup;
* :mod:`~planforge.curation_ui.push` / :mod:`~planforge.curation_ui.pull` / :mod:`~planforge.curation_ui.status`
  -- ``gen review push|pull|status``;
* :mod:`~planforge.curation_ui.agreement` -- Cohen's kappa, Krippendorff's alpha (library-computed), majority votes;
* :mod:`~planforge.curation_ui.cli` -- the typer commands (``review_app``).

Pairs themselves are built by :mod:`planforge.pairs`. Importing this package is cheap: datasets and argilla load
inside the modules and commands that use them.
"""
