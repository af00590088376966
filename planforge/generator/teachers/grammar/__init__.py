"""The template teacher's request grammar, in the order a request is made:

- :mod:`.shapes`: what is asked (asks, people, which output feeds which ask); a shape fixes the plan's structure;
- :mod:`.frames`: the content drawn from the lexicon (:mod:`.lexicon`, times from :mod:`.when`), and the plan;
- :mod:`.realize`: the words, from the grammar file's templates (:mod:`.phrases`, loaded by :mod:`.book`);
- :mod:`.noise`: typing noise on a few requests, never on what the plan needs."""
