"""Recipes: the recipe loader and schema, and the bundled recipes (mac_assistant)."""
