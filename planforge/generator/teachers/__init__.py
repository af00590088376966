"""Teachers: what writes requests and plans. ``openai`` calls any OpenAI-compatible endpoint; ``template``
composes them offline from the recipe's intents and vocabularies."""

from planforge.generator.teachers.base import Teacher, TeacherError, TeacherReply, TeacherRequest

__all__ = ["Teacher", "TeacherError", "TeacherReply", "TeacherRequest"]
