"""Preference pairs: the validated teacher plan (chosen) against a wrong one (rejected), for DPO.

* :mod:`~planforge.pairs.corruptions` -- typed corruptions of a valid plan, each checked really wrong (pure);
* :mod:`~planforge.pairs.builder` -- pairs from a plans dataset, with a student (:mod:`planforge.llms.planners`)
  or corruptions, as rows TRL's ``DPOTrainer`` reads as is;
* :mod:`~planforge.pairs.job` -- ``gen pairs``: read, build, write whole; :mod:`~planforge.pairs.cli` -- its flags.
"""
