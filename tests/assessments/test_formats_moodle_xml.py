"""Moodle XML reading and writing: every core question type, sanitising, hostile XML."""

from decimal import Decimal

import pytest

from assessments.formats import (
    FormatError,
    Kind,
    NumericalValue,
    TextFormat,
    dump_gift,
    parse_gift,
)
from assessments.formats.moodle_xml import (
    dump_moodle_xml,
    parse_moodle_xml,
    read_moodle_xml,
)

EXPORT = """\
<?xml version="1.0" encoding="UTF-8"?>
<quiz>
<!-- question: 0  -->
  <question type="category">
    <category><text>$course$/top/辅导员基础</text></category>
    <info format="html"><text></text></info>
  </question>
  <question type="multichoice">
    <name><text>职责</text></name>
    <questiontext format="html"><text><![CDATA[<p>下列哪一项是辅导员的<b>首要</b>职责？</p>]]></text></questiontext>
    <generalfeedback format="html"><text>见《普通高等学校辅导员队伍建设规定》。</text></generalfeedback>
    <defaultgrade>1.0000000</defaultgrade>
    <idnumber>DUTY-1</idnumber>
    <single>true</single>
    <answer fraction="100" format="html">
      <text>思想理论教育和价值引领</text>
      <feedback format="html"><text>正确。</text></feedback>
    </answer>
    <answer fraction="0" format="html">
      <text>宿舍维修</text>
      <feedback format="html"><text></text></feedback>
    </answer>
    <tags><tag><text>职责</text></tag><tag><text>基础</text></tag></tags>
  </question>
  <question type="multichoice">
    <name><text>Primes</text></name>
    <questiontext format="moodle_auto_format"><text>Which are prime?</text></questiontext>
    <single>false</single>
    <answer fraction="50"><text>2</text></answer>
    <answer fraction="50"><text>3</text></answer>
    <answer fraction="-100"><text>4</text></answer>
  </question>
  <question type="truefalse">
    <name><text>TF</text></name>
    <questiontext format="moodle_auto_format"><text>辅导员应当保护学生隐私。</text></questiontext>
    <answer fraction="100" format="moodle_auto_format">
      <text>true</text>
      <feedback format="moodle_auto_format"><text>对。</text></feedback>
    </answer>
    <answer fraction="0" format="moodle_auto_format">
      <text>false</text>
      <feedback format="moodle_auto_format"><text>请复习第三章。</text></feedback>
    </answer>
  </question>
  <question type="shortanswer">
    <name><text>Short</text></name>
    <questiontext format="moodle_auto_format"><text>心理危机干预的英文缩写是 _____ 。</text></questiontext>
    <usecase>0</usecase>
    <answer fraction="100" format="moodle_auto_format"><text>CI</text><feedback><text></text></feedback></answer>
    <answer fraction="50" format="moodle_auto_format"><text>Crisis</text><feedback><text>Half.</text></feedback></answer>
  </question>
  <question type="numerical">
    <name><text>Hotline</text></name>
    <questiontext format="moodle_auto_format"><text>干预黄金时间是多少小时？</text></questiontext>
    <answer fraction="100"><text>72</text><tolerance>0</tolerance><feedback><text></text></feedback></answer>
    <answer fraction="50"><text>72</text><tolerance>24</tolerance><feedback><text>接近。</text></feedback></answer>
    <answer fraction="0"><text>*</text><tolerance>0</tolerance><feedback><text>不对。</text></feedback></answer>
  </question>
  <question type="matching">
    <name><text>Match</text></name>
    <questiontext format="html"><text>Match the office.</text></questiontext>
    <subquestion format="html"><text>心理咨询</text><answer><text>心理中心</text></answer></subquestion>
    <subquestion format="html"><text>奖助学金</text><answer><text>资助中心</text></answer></subquestion>
    <subquestion format="html"><text></text><answer><text>保卫处</text></answer></subquestion>
  </question>
  <question type="essay">
    <name><text>Essay</text></name>
    <questiontext format="html"><text>简述谈心谈话的步骤。</text></questiontext>
    <responseformat>editor</responseformat>
  </question>
  <question type="description">
    <name><text>Intro</text></name>
    <questiontext format="markdown"><text>**以下**为案例分析题。</text></questiontext>
  </question>
</quiz>
""".encode()


def _by_name(questions):
    return {
        question.name: question
        for question in questions
        if question.kind is not Kind.CATEGORY
    }


def test_parse_every_type():
    questions = parse_moodle_xml(EXPORT)
    category = questions[0]
    assert (category.kind, category.category, category.line) == (
        Kind.CATEGORY,
        "$course$/top/辅导员基础",
        4,
    )
    named = _by_name(questions)
    assert set(named) == {
        "职责",
        "Primes",
        "TF",
        "Short",
        "Hotline",
        "Match",
        "Essay",
        "Intro",
    }
    assert all(q.category == "$course$/top/辅导员基础" for q in named.values())

    duty = named["职责"]
    assert duty.kind is Kind.MULTICHOICE
    assert duty.stem == "<p>下列哪一项是辅导员的<b>首要</b>职责？</p>"
    assert duty.stem_format is TextFormat.HTML
    assert duty.general_feedback == "见《普通高等学校辅导员队伍建设规定》。"
    assert (duty.idnumber, duty.tags, duty.single, duty.line) == (
        "DUTY-1",
        ["职责", "基础"],
        True,
        8,
    )
    assert [(a.text, a.correct, a.score) for a in duty.answers] == [
        ("思想理论教育和价值引领", True, Decimal(100)),
        ("宿舍维修", False, Decimal(0)),
    ]
    assert duty.answers[0].feedback == "正确。"

    primes = named["Primes"]
    assert primes.single is False
    assert [a.score for a in primes.answers] == [
        Decimal(50),
        Decimal(50),
        Decimal(-100),
    ]
    assert primes.stem_format is TextFormat.MOODLE

    true_answer, false_answer = named["TF"].answers
    assert (true_answer.text, true_answer.correct, true_answer.feedback) == (
        "true",
        True,
        "对。",
    )
    assert (false_answer.text, false_answer.correct, false_answer.feedback) == (
        "false",
        False,
        "请复习第三章。",
    )

    short = named["Short"]
    assert [(a.text, a.score) for a in short.answers] == [
        ("CI", Decimal(100)),
        ("Crisis", Decimal(50)),
    ]

    exact, close, other = named["Hotline"].answers
    assert exact.numerical == NumericalValue(Decimal(72), Decimal(0))
    assert close.numerical == NumericalValue(Decimal(72), Decimal(24))
    assert close.score == Decimal(50)
    assert (other.text, other.numerical, other.score, other.feedback) == (
        "*",
        None,
        0,
        "不对。",
    )

    match = named["Match"]
    assert [(a.text, a.match_to) for a in match.answers] == [
        ("心理咨询", "心理中心"),
        ("奖助学金", "资助中心"),
        ("", "保卫处"),
    ]
    assert named["Essay"].kind is Kind.ESSAY
    intro = named["Intro"]
    assert (intro.kind, intro.stem_format) == (Kind.DESCRIPTION, TextFormat.MARKDOWN)


def test_round_trip():
    parsed = parse_moodle_xml(EXPORT)
    written = dump_moodle_xml(parsed)
    assert written.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<quiz>')
    assert parse_moodle_xml(written) == parsed


def test_gift_to_xml_and_back_to_gift():
    gift = (
        "$CATEGORY: $course$/top/Unit 1\n\n"
        "::MC::Pick one{=right#yes ~wrong#no ####Read unit 1.}\n\n"
        "::Multi::Pick two{~%50%a ~%50%b ~%-100%c}\n\n"
        "::TF::Sky is blue.{TRUE#Look up.#Good.}\n\n"
        "::Short::Capital of China?{=北京 =%50%Peking}\n\n"
        "::Num::Year?{#\n=1822:0\n=%50%1822:2\n~#No.\n}\n\n"
        "::Match::Match{=a -> 1 =b -> 2}\n\n"
        "::Essay::Write.{}\n\n"
        "::Intro::Read this first."
    )
    from_gift = parse_gift(gift)
    through_xml = parse_moodle_xml(dump_moodle_xml(from_gift))
    assert dump_gift(through_xml) == dump_gift(from_gift)


def test_script_and_event_handlers_are_removed():
    xml = b"""<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="multichoice">
    <name><text>X</text></name>
    <questiontext format="html"><text><![CDATA[<p onmouseover="steal()">Q<script>alert(1)</script><img src="a.png" onerror="alert(2)"></p>]]></text></questiontext>
    <generalfeedback format="html"><text><![CDATA[<a href="javascript:alert(3)">more</a>]]></text></generalfeedback>
    <answer fraction="100" format="html">
      <text><![CDATA[<b onclick="x()">yes</b>]]></text>
      <feedback format="moodle_auto_format"><text><![CDATA[ok<script>alert(4)</script>]]></text></feedback>
    </answer>
    <answer fraction="0" format="html"><text>no</text></answer>
  </question>
</quiz>"""
    [question] = parse_moodle_xml(xml)
    assert question.stem == '<p>Q<img src="a.png"></p>'
    assert "javascript" not in question.general_feedback
    assert question.answers[0].text == "<b>yes</b>"
    assert question.answers[0].feedback == "ok"
    for text in (question.stem, question.general_feedback, question.answers[0].text):
        assert "script" not in text
        assert "onerror" not in text
        assert "onclick" not in text
        assert "onmouseover" not in text


def test_plain_moodle_text_keeps_its_characters():
    xml = b"""<quiz><question type="essay"><name><text>E</text></name>
    <questiontext format="moodle_auto_format"><text>Is 2 &lt; 3 &amp; 4 &gt; 1?</text></questiontext>
    </question></quiz>"""
    [question] = parse_moodle_xml(xml)
    assert question.stem == "Is 2 < 3 & 4 > 1?"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<quiz><question type="essay"><name><text>&lol9;</text></name>
<questiontext><text>&lol9;</text></questiontext></question></quiz>"""


def test_billion_laughs_is_rejected():
    with pytest.raises(FormatError) as caught:
        parse_moodle_xml(BILLION_LAUGHS)
    [problem] = caught.value.problems
    assert problem.field == "file"
    assert "DTD" in str(problem.message)
    assert "DTDForbidden" not in str(problem.message)


def test_dtd_rejection_in_chinese(app_ctx):
    with pytest.raises(FormatError) as caught:
        parse_moodle_xml(BILLION_LAUGHS)

    message = str(caught.value.problems[0].message)
    assert message == "XML 中含有文档类型声明（DTD）。Moodle 不会写入此类声明，因此拒绝该文件。"


def test_external_entity_is_rejected():
    xml = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<quiz><question type="essay"><questiontext><text>&secret;</text></questiontext></question></quiz>"""
    with pytest.raises(FormatError) as caught:
        parse_moodle_xml(xml)
    assert caught.value.problems[0].field == "file"


def test_gbk_declared_document():
    text = """<?xml version="1.0" encoding="GBK"?>
<quiz><question type="essay"><name><text>简答</text></name>
<questiontext format="html"><text>谈谈你对“三全育人”的理解。</text></questiontext></question></quiz>"""
    [question] = parse_moodle_xml(text.encode("gbk"))
    assert question.name == "简答"
    assert question.stem == "谈谈你对“三全育人”的理解。"


def test_gb18030_document_without_declaration():
    text = "<quiz><question type='essay'><questiontext><text>辅导员</text></questiontext></question></quiz>"
    [question] = parse_moodle_xml(text.encode("gb18030"))
    assert question.stem == "辅导员"


def test_malformed_xml_names_line():
    with pytest.raises(FormatError) as caught:
        parse_moodle_xml(b"<quiz>\n<question type='essay'>\n<questiontext>\n</quiz>")
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (4, "file")


def test_wrong_root_element():
    with pytest.raises(FormatError) as caught:
        parse_moodle_xml(b"<questions/>")
    assert "<quiz>" in str(caught.value)


def test_every_bad_question_is_listed_with_its_line():
    xml = b"""<quiz>
  <question type="multianswer"><questiontext><text>{1:SA:=x}</text></questiontext></question>
  <question type="multichoice">
    <questiontext><text>Only one</text></questiontext>
    <answer fraction="100"><text>a</text></answer>
  </question>
  <question type="numerical">
    <questiontext><text>N</text></questiontext>
    <answer fraction="100"><text>seventy</text></answer>
  </question>
  <question type="shortanswer">
    <questiontext><text>S</text></questiontext>
    <answer fraction="150"><text>a</text></answer>
  </question>
  <question type="truefalse">
    <questiontext><text>T</text></questiontext>
    <answer fraction="100"><text>yes</text></answer>
  </question>
  <question type="essay"><questiontext format="rtf"><text>E</text></questiontext></question>
  <question type="essay"><name><text>fine</text></name><questiontext><text>ok</text></questiontext></question>
</quiz>"""
    with pytest.raises(FormatError) as caught:
        parse_moodle_xml(xml)
    assert [(problem.line, problem.field) for problem in caught.value.problems] == [
        (2, "type"),
        (3, "answers"),
        (9, "numerical"),
        (13, "fraction"),
        (15, "answers"),
        (19, "format"),
    ]


def _with_one_other(type_name: str) -> bytes:
    return f"""<quiz>
  <question type="multichoice">
    <questiontext><text>Pick one</text></questiontext>
    <answer fraction="100"><text>a</text></answer>
    <answer fraction="0"><text>b</text></answer>
  </question>
  <question type="{type_name}">
    <name><text>other</text></name>
    <questiontext><text>What is {{x}} + {{y}}?</text></questiontext>
  </question>
</quiz>""".encode()


@pytest.mark.parametrize(
    "type_name, reason",
    [
        ("calculated", "formula"),
        ("calculatedsimple", "formula"),
        ("calculatedmulti", "formula"),
        ("ddwtos", "fill-in-the-blank"),
        ("gapselect", "fill-in-the-blank"),
        ("multianswer", "Cloze"),
        ("ddimageortext", "image"),
        ("ddmarker", "image"),
        ("random", "drawn from its category"),
        ("randomsamatch", "matching question"),
        ("stack", "multichoice, truefalse, shortanswer"),
    ],
)
def test_unsupported_type_left_out(app_ctx, english, type_name, reason):
    questions, left_out = read_moodle_xml(_with_one_other(type_name))

    assert [question.kind for question in questions] == [Kind.MULTICHOICE]
    [problem] = left_out
    assert (problem.line, problem.field) == (7, "type")
    assert type_name in str(problem.message)
    assert reason in str(problem.message)


def test_unsupported_type_in_chinese(app_ctx):
    _questions, [problem] = read_moodle_xml(_with_one_other("calculated"))

    assert str(problem).startswith("第 7 行，题型：")
    assert "calculated" in str(problem)
    assert "computes its answer" not in str(problem)


def test_strict_parse_rejects_unsupported_type():
    with pytest.raises(FormatError) as caught:
        parse_moodle_xml(_with_one_other("calculated"))

    assert [(p.line, p.field) for p in caught.value.problems] == [(7, "type")]


def test_unsupported_type_keeps_real_problems():
    xml = b"""<quiz>
  <question type="calculated"><questiontext><text>{a}+{b}</text></questiontext></question>
  <question type="multichoice">
    <questiontext><text>Only one</text></questiontext>
    <answer fraction="100"><text>a</text></answer>
  </question>
  <question type="essay"><questiontext format="rtf"><text>E</text></questiontext></question>
</quiz>"""
    with pytest.raises(FormatError) as caught:
        read_moodle_xml(xml)

    assert [(p.line, p.field) for p in caught.value.problems] == [
        (3, "answers"),
        (7, "format"),
    ]


@pytest.mark.parametrize("attribute", ["", ' type=""'])
def test_question_without_type_rejected(attribute):
    xml = f"<quiz>\n<question{attribute}><questiontext><text>Q</text></questiontext></question>\n</quiz>"

    with pytest.raises(FormatError) as caught:
        read_moodle_xml(xml.encode())

    assert [(p.line, p.field) for p in caught.value.problems] == [(2, "type")]
