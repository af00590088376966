"""Generator: function sampling, teachers, the pure assessment of replies and its worker processes, the run loop,
checkpoint, dedup, the dataset writer, shards and their merge (by hand or on Ray)."""
