"""``python -m planforge`` runs the ``gen`` command line."""

from planforge.cli import app

app()
