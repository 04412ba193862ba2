"""Built-in forms. READINESS is the seed document's phase 1, ارزیابی آمادگی (readiness
assessment): does collective impact fit the issue, are its preconditions there (influential
champions, urgency for change, adequate resources), and is the infrastructure there (partners
willing to work together, a backbone organisation, data for shared measurement)."""

from __future__ import annotations

from decimal import Decimal

from bot.surveys.form import Form, Kind, Question

_SCALE_HINT = {"fa": "۱ یعنی اصلاً، ۵ یعنی کاملاً", "en": "1 = not at all, 5 = completely"}


def _scale(name: str, fa: str, en: str) -> Question:
    return Question(
        name,
        Kind.SCALE,
        {"fa": fa, "en": en},
        hint=_SCALE_HINT,
        required=True,
        minimum=Decimal(1),
        maximum=Decimal(5),
    )


def _yes_no(name: str, fa: str, en: str) -> Question:
    return Question(name, Kind.YES_NO, {"fa": fa, "en": en}, required=True)


READINESS = Form(
    title={
        "fa": "ارزیابی آمادگی برای اثرگذاری جمعی",
        "en": "Readiness assessment for collective impact",
    },
    questions=(
        Question(
            "intro",
            Kind.NOTE,
            {
                "fa": "این ارزیابی آمادگی، مرحلهٔ ۱ اثرگذاری جمعی است و سه چیز را می‌سنجد: "
                "آیا این رویکرد با مسئلهٔ ما تناسب دارد، آیا پیش‌شرط‌های آن فراهم است و آیا "
                "زیرساخت لازم برای آن وجود دارد. این ارزیابی وقتی بیشترین فایده را دارد که "
                "چند نفر از اشخاص ذی‌نفع به آن پاسخ دهند و سپس دربارهٔ نتیجه با هم گفتگو کنند.",
                "en": "This readiness assessment is phase 1 of collective impact. It asks "
                "three things: does the approach fit our issue, are its preconditions in "
                "place, and is the infrastructure there. It is worth most when several "
                "stakeholders answer it and then talk the results over together.",
            },
        ),
        # Is collective impact the right approach for the issue?
        _scale(
            "complex_issue",
            "تا چه حد مسئلهٔ ما یک مسئلهٔ پیچیدهٔ اجتماعی یا محیطی است که باید در مقیاس "
            "گسترده حل شود؟",
            "To what extent is our issue a complex social or environmental problem that has to be "
            "solved at scale?",
        ),
        _yes_no(
            "time_and_resources",
            "آیا برای یک کار جمعی طولانی‌مدت، زمان و منابع کافی در اختیار داریم؟",
            "Do we have enough time and resources for long joint work?",
        ),
        # The preconditions: champions, urgency, resources.
        _scale(
            "champions",
            "تا چه حد افراد تأثیرگذاری داریم که نقش پیشرو را بپذیرند و اشخاص ذی‌نفع را همراه کنند؟",
            "To what extent do we have influential people willing to lead and bring stakeholders "
            "along?",
        ),
        _scale(
            "urgency",
            "چقدر ضرورت دارد که به این مسئله با شیوه‌ای جدید و متفاوت رسیدگی شود؟",
            "How urgent is it to tackle the issue in a new and different way?",
        ),
        _scale(
            "funding",
            "تا چه حد منابع مالی کافی برای برنامه‌ریزی و زیرساخت‌های کار در دسترس است؟",
            "To what extent are there enough financial resources for the planning and the "
            "infrastructure?",
        ),
        # The infrastructure: a history of working together, partners, a backbone, data.
        _scale(
            "history_of_collaboration",
            "سازمان‌ها و گروه‌های محله تا چه حد سابقهٔ همکاری با هم دارند؟",
            "How much have the neighbourhood's organisations and groups worked together before?",
        ),
        _yes_no(
            "existing_collaboration",
            "آیا هم‌اکنون در محله همکاری‌ای برای این مسئله در جریان است؟",
            "Is a collaboration in the neighbourhood already working on this issue?",
        ),
        _scale(
            "willing_partners",
            "سازمان‌ها و اشخاص ذی‌نفع از بخش‌های مختلف تا چه حد حاضرند با هم کار کنند؟",
            "How willing are organisations and stakeholders from different sectors to work "
            "together?",
        ),
        _yes_no(
            "backbone",
            "آیا سازمانی هست که بتواند با کارکنان و منابع مالی خودش نقش سازمان پشتیبان را "
            "بر عهده بگیرد؟",
            "Is there an organisation that could act as the backbone organisation, with its "
            "own staff and funding?",
        ),
        _scale(
            "data",
            "داده‌هایی که برای سنجش هماهنگ و دنبال کردن شاخص‌های این مسئله لازم است، تا چه "
            "حد در دسترس است؟",
            "How available are the data needed for shared measurement, to follow indicators "
            "for this issue?",
        ),
        Question(
            "anything_else",
            Kind.TEXT,
            {
                "fa": "چه چیز دیگری دربارهٔ آمادگی محله برای این کار مهم است؟",
                "en": "What else matters for the neighbourhood's readiness for this work?",
            },  # optional: the bot says so under the question, as for any optional one
        ),
    ),
)
