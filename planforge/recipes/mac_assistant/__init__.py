"""The bundled mac_assistant recipe: its files, and its planner rules (:mod:`.rules`)."""
