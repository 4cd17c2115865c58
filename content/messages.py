"""The bot's own wording (greetings, prompts, errors), kept in messages.yaml so a writer
can change it without touching Python. `MESSAGE_FIELDS` is the contract with the code: every
key the handlers use, and the placeholders each one may contain."""

from __future__ import annotations

from collections.abc import Iterator
from string import Formatter

MESSAGE_FIELDS: dict[str, frozenset[str]] = {
    key: frozenset(fields)
    for key, fields in {
        # onboarding
        "welcome": {"name"},
        "welcome_back": {"name"},
        "ask_role": set(),
        "ask_time": set(),
        "ask_zone": set(),
        "bad_role": {"value"},
        "onboarding_done": {"role", "time", "zone", "mode"},
        # mode
        "mode_current": {"mode"},
        "mode_switched_hr": set(),
        "mode_switched_user": {"role"},
        "mode_unchanged": {"mode"},
        "bad_mode": {"value"},
        # settings
        "role_current": {"role"},
        "role_set": {"role"},
        "time_current": {"time", "zone"},
        "time_set": {"time", "zone"},
        "bad_time": {"value"},
        "zone_current": {"zone"},
        "zone_set": {"zone", "time"},
        "bad_zone": {"value"},
        # tips and practice
        "tip_header": {"mode"},
        "practice_question": {"mode", "role", "question"},
        "practice_answer_too_short": {"count"},
        "no_content": set(),
        "ask_back_header": {"round"},
        "ask_back_item": {"text", "why"},
        # feedback
        "fb_header": {"score"},
        "fb_length": {"words", "seconds"},
        "fb_length_short": {"low", "high"},
        "fb_length_long": {"low", "high"},
        "fb_star": {"present", "missing"},
        "fb_star_complete": set(),
        "fb_star_none": set(),
        "fb_evidence_yes": {"examples"},
        "fb_evidence_no": set(),
        "fb_fillers": {"fillers"},
        "fb_no_fillers": set(),
        "fb_pronouns_kami": {"saya", "kami"},
        "fb_pronouns_ok": {"saya", "kami"},
        "fb_negative": {"words"},
        "fb_keywords": {"covered", "missing"},
        "fb_keywords_all": {"covered"},
        "fb_keywords_none": {"missing"},
        "fb_improve": {"advice"},
        "fb_outline": {"outline"},
        "improve_negative": set(),
        "improve_too_short": set(),
        "improve_thin": set(),
        "improve_evidence": set(),
        "improve_result": set(),
        "improve_action": set(),
        "improve_situation": set(),
        "improve_keywords": {"missing"},
        "improve_kami": set(),
        "improve_fillers": set(),
        "improve_too_long": set(),
        "improve_polish": set(),
        "star_situation": set(),
        "star_task": set(),
        "star_action": set(),
        "star_result": set(),
        # interviews and the countdown plan
        "interview_ask_date": set(),
        "interview_ask_time": {"day"},
        "interview_time_only": {"value", "day"},
        "interview_ask_am_pm": set(),
        "interview_ask_which_day": set(),
        "interview_bad_time": {"value"},
        "interview_no_such_date": {"value"},
        "interview_past": {"value"},
        "interview_too_far": {"value"},
        "interview_unknown_date": {"value"},
        "interview_confirm": {"when", "mode"},
        "interview_confirm_hint": set(),
        "interview_saved": {"when", "mode", "count", "first"},
        "interview_saved_no_steps": {"when", "mode"},
        "interview_discarded": set(),
        "interview_duplicate": {"when"},
        "interview_limit": {"limit"},
        "interview_register_user_round": set(),
        "schedule_empty": {"daily"},
        "schedule_header": {"daily"},
        "schedule_interview": {"number", "when", "mode"},
        "schedule_step": {"when", "title"},
        "schedule_no_steps": set(),
        "daily_active": {"time", "zone"},
        "daily_paused": set(),
        "cancel_none": set(),
        "cancel_pick": set(),
        "cancel_confirm": {"when", "mode"},
        "cancel_done": {"when", "mode"},
        "cancel_kept": set(),
        "pause_done": set(),
        "pause_already": set(),
        "resume_done": {"time", "zone"},
        "resume_already": {"time", "zone"},
        "bad_time_quiet": {"value"},
        "daily_header": set(),
        "daily_question": {"question"},
        "plan_header": {"mode", "when"},
        "plan_days_left": {"days"},
        "plan_day_of": set(),
        "plan_title": {"countdown", "title"},
        "nudge_backoff": set(),
        "reply_late": set(),
        # general
        "help": set(),
        "fallback_text": set(),
        "fallback_suggest": {"command"},
        "greeting": {"name", "mode"},
        "unknown_command": {"command"},
        "empty_message": set(),
        "too_long": {"length", "limit"},
        "stale_button": set(),
        "error": set(),
        "media_not_supported": set(),
        "flood_note": set(),
        "unreadable_update": set(),
        "document_not_supported": set(),
        "group_only_private": {"link"},
        "wa_choose": set(),
        "wa_list_button": set(),
        "wa_template_mulai_latihan": set(),
        "wa_template_button": set(),
        # Telegram's command menu
        "cmd_start": set(),
        "cmd_mode": set(),
        "cmd_tips": set(),
        "cmd_latihan": set(),
        "cmd_tanya_balik": set(),
        "cmd_peran": set(),
        "cmd_pengingat": set(),
        "cmd_zona": set(),
        "cmd_bantuan": set(),
        "cmd_interview": set(),
        "cmd_jadwal": set(),
        "cmd_batal": set(),
        "cmd_jeda": set(),
        "cmd_lanjut": set(),
        # labels
        "label_mode_hr": set(),
        "label_mode_user": set(),
        "label_role_umum": set(),
        "label_role_developer": set(),
        "label_role_qa": set(),
        "label_role_data": set(),
        "button_skip": set(),
        "button_next_question": set(),
        "button_more_tips": set(),
        "button_practice": set(),
        "button_more_ask_back": set(),
        "button_mode_hr": set(),
        "button_mode_user": set(),
        "button_save": set(),
        "button_discard": set(),
        "button_cancel_yes": set(),
        "button_no": set(),
        "button_register_user_round": set(),
    }.items()
}


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


class Messages:
    def __init__(self, templates: dict[str, str]) -> None:
        self._templates = templates

    def __contains__(self, key: str) -> bool:
        return key in self._templates

    def __iter__(self) -> Iterator[str]:
        return iter(self._templates)

    def __len__(self) -> int:
        return len(self._templates)

    def template(self, key: str) -> str:
        return self._templates[key]

    def render(self, key: str, **values: object) -> str:
        if key not in MESSAGE_FIELDS:
            raise KeyError(f"message {key!r} is not declared in MESSAGE_FIELDS")
        return self._templates[key].format_map(values)
