"""Small word lists the rewriting rules lean on (closed classes and common news words).

They are deliberately short and general: function words, auxiliaries, the
verbs news questions are built on, titles, words that name organisations and
groups of people, and common first names whose usual gender lets "he" and
"she" pick different people. A word missing here makes a rule fall back to
recency, never to a wrong special case.
"""

from __future__ import annotations


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


AUX = _set("did does do is are was were will would can could should has have had may might must")
WH = _set("what which who whom whose when where why how")
PREPS = _set(
    "in at on of for to from with by about over near into onto across against between during "
    "after before since until under without within through than as"
)
FUNCTION = (
    _set(
        "the a an and or but so also then there this that these those it its they them their he him "
        "his she her hers we us our you your i me my not no yes if than too very more most less "
        "much many some any all each every other such own same just only still even ever"
    )
    | AUX
    | WH
    | PREPS
)
VERBS = _set(
    "say said says tell told ask asked speak spoke spoken talk talked announce announced claim claimed "
    "suggest suggested describe described mean meant go went gone be been being take took taken make made "
    "give gave given get got win won lose lost lead leads led meet met hold held leave left begin began "
    "start started end ended open opened close closed reopen reopened cost costs rise rose risen fall fell "
    "raise raised cut cuts pay paid build building built found founded base based chair chairs chaired "
    "vote voted plan planned stay stayed react reacted expect expected finish finished spread spreads "
    "happen happened demand demanded propose proposed approve approved decide decided challenge challenged "
    "replace replaced step stepped respond responded want wanted live lived die died cancel cancelled "
    "evacuate evacuated press pressed accept accepted walk walked score scored call called agree agreed "
    "reject rejected promise promised warn warned blame blamed acknowledge acknowledged recognize impose "
    "think thought know knew see saw become became run ran buy bought sell sold own owned employ employed "
    "strike struck rule ruled sign signed discuss discussed offer offered exchange land landed hit resign "
    "resigned fight fought protest protested last lasted"
)
ORG_WORDS = _set(
    "union council court bank motors engineering robotics authority agency ministry department party "
    "company corp corporation inc ltd group airlines airline airways hospital university kremlin city rovers "
    "united fc committee commission parliament congress senate government police board association "
    "federation league fund reserve institute foundation bureau office army navy club times post news "
    "network systems energy holdings industries partners bros labs pharma telecom rail railways"
)
#: Nouns that refer back to an organisation: "the company", "the union".
ORG_NOUNS = _set(
    "company firm bank airline carrier union council club team government agency ministry "
    "party group business insurer retailer manufacturer operator authority court"
)
#: Heads of plural noun phrases that name people ("the nurses", "the dockworkers").
PEOPLE_PLURALS = _set(
    "people police residents protesters workers dockworkers nurses teachers unions "
    "landlords tenants voters officials farmers students doctors passengers ministers "
    "leaders lawmakers fans players families citizens staff troops rebels firefighters "
    "miners pilots drivers employees investors shareholders presidents members "
    "strikers victims survivors refugees children parents"
)
PEOPLE_SUFFIXES = ("ers", "ists", "ians", "ees", "ants", "ents")
TITLES = _set(
    "president senator governor mayor chancellor minister prime coach chief councillor judge "
    "dr mr mrs ms miss sir dame lady lord king queen prince princess secretary general "
    "foreign spokesman spokeswoman ambassador commissioner director chairman chairwoman "
    "captain sheriff speaker pope rabbi father sister"
)
MALE_TITLES = _set("mr sir lord king prince father spokesman chairman")
FEMALE_TITLES = _set("mrs ms miss dame lady queen princess sister spokeswoman chairwoman")
FEMALE_NAMES = _set(
    "priya grace angela ingrid sara sarah rosa ellen ama nina maria anna emma olivia sophie julia elena "
    "fatima aisha mary elizabeth laura claire kate jane susan karen linda hannah lucy alice helen ruth "
    "marta ana giorgia ursula kamala hillary theresa liz nicola jacinda christine brittney amy emily "
    "rachel rebecca natalia olga irina yulia mei ling chloe zoe lisa jennifer jessica michelle nancy"
)
MALE_NAMES = _set(
    "tom martin paul luis omar ben jamal leo erik antony anthony sergey vladimir joe ned viktor john james "
    "michael david robert william richard thomas peter mark daniel andrew george charles emmanuel olaf "
    "boris rishi keir donald barack ahmed mohammed carlos juan pedro ivan igor dmitry hans lars sven "
    "xi li wang jose miguel ali hassan samuel kevin brian steven matthew chris christopher simon alex "
    "volodymyr recep narendra justin scott eric ryan adam"
)
DAYS = _set("monday tuesday wednesday thursday friday saturday sunday")
MONTHS = _set("january february march april may june july august september october november december")
SPEECH = _set(
    "say said says tell told mention mentioned announce announced claim claimed suggest "
    "suggested describe described mean meant think thought"
)
#: Irregular past forms, for "Who won ...?" → "Why did X win ...?".
IRREGULAR = {
    "won": "win",
    "said": "say",
    "went": "go",
    "made": "make",
    "took": "take",
    "gave": "give",
    "left": "leave",
    "met": "meet",
    "told": "tell",
    "led": "lead",
    "broke": "break",
    "began": "begin",
    "ran": "run",
    "chose": "choose",
    "wrote": "write",
    "sent": "send",
    "spoke": "speak",
    "held": "hold",
    "came": "come",
    "became": "become",
    "quit": "quit",
    "cut": "cut",
    "set": "set",
    "put": "put",
    "bought": "buy",
    "sold": "sell",
    "fought": "fight",
    "lost": "lose",
    "paid": "pay",
    "struck": "strike",
    "rose": "rise",
    "fell": "fall",
    "built": "build",
    "hit": "hit",
    "saw": "see",
    "knew": "know",
    "found": "find",
    "thought": "think",
    "got": "get",
    "stood": "stand",
    "brought": "bring",
}
