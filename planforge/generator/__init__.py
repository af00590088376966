"""Generator: function sampling, teachers, response cache, checkpoint, dedup, the run loop and the dataset writer."""
