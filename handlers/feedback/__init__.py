"""Feedback on a typed answer: deterministic, offline, and every point traceable to a
rule and a word list in content/data/feedback.yaml."""

from handlers.feedback.advice import Improvement, choose
from handlers.feedback.judge import FeedbackReport, analyze
from handlers.feedback.reading import request_kind
from handlers.feedback.render import Attempt, render
from handlers.feedback.vocabulary import Domain, domain

__all__ = [
    "Attempt",
    "Domain",
    "FeedbackReport",
    "Improvement",
    "analyze",
    "choose",
    "domain",
    "render",
    "request_kind",
]
