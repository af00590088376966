"""Teachers: what writes requests and plans. ``openai`` calls any OpenAI-compatible endpoint; ``template``
writes them offline from the recipe's request grammar (:mod:`.grammar`)."""

from planforge.generator.teachers.base import Teacher, TeacherError, TeacherReply, TeacherRequest

__all__ = ["Teacher", "TeacherError", "TeacherReply", "TeacherRequest"]
