"""The demo university, its 院系 and one account per platform role, and a second
institution with its own HR officer and counselor, whose people the first one's HR cannot list."""

from lms.seed_content.specs import AccountSpec, DepartmentSpec, InstitutionSpec

DEMO_UNIVERSITY = InstitutionSpec(
    code="demo-univ",
    name="树人示范大学",
    name_en="Shuren Demonstration University",
    timezone="Asia/Shanghai",
    serial_prefix="SR",
    departments=(
        DepartmentSpec("marxism", "马克思主义学院"),
        DepartmentSpec("cs", "计算机科学与技术学院"),
    ),
)

# Addresses use the reserved .example domain so that no mail can reach a real person.
ACCOUNTS = (
    AccountSpec(
        username="counselor1",
        full_name="林晓雯",
        employee_no="20230117",
        email="counselor1@shuren.example",
        role="counselor",
        post="full_time_counselor",
        department="marxism",
        years_in_post=0,
    ),
    AccountSpec(
        username="counselor2",
        full_name="周子航",
        employee_no="20240209",
        email="counselor2@shuren.example",
        role="counselor",
        post="full_time_counselor",
        department="cs",
        years_in_post=3,
    ),
    AccountSpec(
        username="organiser",
        full_name="陈立新",
        employee_no="20150322",
        email="organiser@shuren.example",
        role="party_worker",
        post="party_organiser",
        department="cs",
        years_in_post=10,
        # A 组织员 is a Party member and here sits on the 院系 Party committee,
        # so the Party members' and committee members' training rules apply.
        party_status="member",
        # A full member for years, so the rules for probationary and new
        # members no longer cover them.
        years_as_member=12,
        party_committee_member=True,
    ),
    AccountSpec(
        username="trainer",
        full_name="王慧敏",
        employee_no="20120405",
        email="trainer@shuren.example",
        role="trainer",
        post=None,
        department=None,
    ),
    AccountSpec(
        username="hr",
        full_name="赵静",
        employee_no="20100518",
        email="hr@shuren.example",
        role="hr",
        post=None,
        department=None,
    ),
    # HR of one department: with it, the department and institution steps
    # of a 计算机科学与技术学院 applicant's promotion go to two people.
    AccountSpec(
        username="hr_cs",
        full_name="吴敏",
        employee_no="20140707",
        email="hr_cs@shuren.example",
        role="hr",
        post=None,
        department="cs",
        hr_department="cs",
    ),
    AccountSpec(
        username="admin",
        full_name="刘建华",
        employee_no="20180611",
        email="admin@shuren.example",
        role="admin",
        post=None,
        department=None,
        platform_operator=True,
    ),
)

SECOND_INSTITUTION = InstitutionSpec(
    code="demo-normal",
    name="明德示范师范学院",
    name_en="Mingde Demonstration Normal College",
    timezone="Asia/Shanghai",
    serial_prefix="MD",
    departments=(
        DepartmentSpec("education", "教育学院"),
        DepartmentSpec("foreign-languages", "外国语学院"),
    ),
)

SECOND_ACCOUNTS = (
    AccountSpec(
        username="counselor3",
        full_name="何雨桐",
        employee_no="MD20220913",
        email="counselor3@mingde.example",
        role="counselor",
        post="full_time_counselor",
        department="education",
        years_in_post=1,
    ),
    AccountSpec(
        username="hr2",
        full_name="孙伟",
        employee_no="MD20090301",
        email="hr2@mingde.example",
        role="hr",
        post=None,
        department=None,
    ),
)
