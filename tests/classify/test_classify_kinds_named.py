"""Kinds of error a desk names when it reads the panes: weather that "slams" a coast read as a
speaker, a warning of floods at home, a novelist or a filmmaker who condemns, a leader's praise
for a weapons test at home, an official who is "appalled" or who "tells" a broadcaster, an arms
embargo by another name (export licences suspended, a shipment of bombs paused), a punitive duty
by executive order, tariffs tied to a state's conduct (and a stamp duty, which is a tax), a
group designated as terrorist, export curbs and measures named by their verb or target, a
readout's courtesies, a statement on a shooting at home, a strike or a death toll reported
through "…, governor says", the reason an act gives for itself ("…, accusing him of"), a foreign
ministry's "Comment by …", a market regulator's sanctions, and a price war between shops.
Invented sentences, one or two per kind, with guards that keep the neighbouring true cases (none
is taken from an eval file); and floors on the desk probes in tests/data/probes."""
from __future__ import annotations

from pathlib import Path

import pytest

from feeds.classify.evaluate import evaluate, read_tsv

PROBES = Path(__file__).resolve().parents[1] / "data" / "probes"


@pytest.mark.parametrize("title, summary, label, expected", [
    # weather is no speaker
    ("Typhoon Haikui slams Taiwan's east coast",
     "Typhoon Haikui slammed into eastern Taiwan on Sunday, cutting power to 200,000 homes.",
     "statements", False),
    ("Monsoon rains pound Bangladesh as government warns of floods", "Bangladesh's government"
     " warned of flash floods and landslides in the southeast as monsoon rains pounded the region.",
     "statements", False),
    # guard: an appeal for a disaster abroad is a statement
    ("UN chief urges aid for Libya flood victims", "The Secretary-General called on donors to"
     " fund relief for the thousands displaced in Derna.", "statements", True),
    # writers and screen stars are no officials
    ("Novelist condemns Russia's jailing of poet", "An exiled Russian novelist condemned the"
     " seven-year sentence handed to the poet in Moscow.", "statements", False),
    ("Filmmaker slams Iran's crackdown on women", "An award-winning Iranian filmmaker slammed the"
     " government's crackdown, saying Tehran fears its own people.", "statements", False),
    # praise for a weapons test at home is no reaction abroad
    ("Kim hails successful test of new hypersonic missile", "North Korea's leader praised the"
     " scientists behind the launch, state media reported.", "statements", False),
    # guard: a leader condemning a test abroad is a statement
    ("Japan condemns North Korea's missile test", "Japan's prime minister said the launch was an"
     " outrageous act that threatens regional peace.", "statements", True),
    # an official's feelings are a statement
    ("UN rights chief 'horrified' by executions in Iran", "The UN High Commissioner for Human"
     " Rights said he was horrified by the surge in executions.", "statements", True),
    # "tells" names the listener, not the speaker
    ("Taiwan will neither provoke nor bow to pressure, Lai tells broadcaster", "In an interview"
     " with a Japanese broadcaster, Taiwan's president said the island would keep the status quo.",
     "statements", True),
    # an arms embargo by another name
    ("Britain suspends 30 arms export licences to Israel", "The government said there was a clear"
     " risk the items could be used in serious violations of international law.", "sanctions",
     True),
    ("US pauses shipment of bombs to Israel over Rafah", "The administration withheld a shipment"
     " of 1,800 2,000-pound bombs.", "sanctions", True),
    # a readout's courtesies are the call's, not a reaction
    ("PM call with President Macron: 3 June 2025", "The Prime Minister spoke to President Macron"
     " this morning. The Prime Minister welcomed the progress made on the coalition of the willing"
     " and said the UK would keep working with partners towards a lasting peace.", "statements",
     False),
    # a statement on a shooting at home is home news
    ("Statement from the President on the Shooting in Uvalde, Texas", "Jill and I are heartbroken"
     " by the shooting at an elementary school in Uvalde. No parent should ever have to bury a"
     " child.", "statements", False),
    # a strike or a launch reported by a governor or a neighbour is a fact, not an utterance
    ("Drones hit oil depot in Bryansk region, Russian governor says", "A fire broke out at an oil"
     " depot after a drone attack overnight, the regional governor said.", "statements", False),
    ("North Korea fires two short-range missiles, Seoul says", "North Korea fired two short-range"
     " ballistic missiles off its east coast on Thursday, South Korea's military said.",
     "statements", False),
    # a punitive duty on one country, by executive order
    ("Executive Order on an additional duty on India", "The President signed an Executive Order"
     " imposing an additional 25 percent ad valorem duty on imports from India over its purchases"
     " of Russian oil.", "sanctions", True),
    # the reason an act gives for itself, and a count with its source, are no utterance
    ("ICC prosecutor seeks arrest warrant for Myanmar junta chief", "The prosecutor of the"
     " International Criminal Court on Wednesday sought an arrest warrant for Myanmar military"
     " leader Min Aung Hlaing, accusing him of crimes against humanity.", "statements", False),
    ("Myanmar quake death toll passes 3,000, junta says", "The death toll from the earthquake has"
     " passed 3,000, the military government said on Thursday.", "statements", False),
    ("Airstrikes kill five in northern Syria, health ministry says", "Five people including two"
     " children were killed in airstrikes on Idlib province overnight, the health ministry said.",
     "statements", False),
    # a foreign ministry's "Comment by …" is its statement
    ("Comment by Foreign Ministry Spokeswoman on NATO exercises in the Baltic", "We regard the"
     " drills near Russia’s borders as a dangerous provocation that undermines regional"
     " security.", "statements", True),
    # a market regulator's sanctions are no state's
    ("SEC sanctions brokerage over recordkeeping failures", "The Securities and Exchange Commission"
     " fined the brokerage $10 million for failing to preserve staff messages.", "sanctions",
     False),
    # export curbs and measures named by their verb or their target
    ("China restricts exports of rare earth magnets", "Beijing restricted exports of seven rare"
     " earth elements and magnets, the commerce ministry said.", "sanctions", True),
    ("EU imposes measures on Kosovo over unrest in the north", "The bloc cut some funding to"
     " Pristina on Wednesday.", "sanctions", True),
    # tariffs tied to a state's conduct are sanctions; a stamp duty is a tax
    ("President-elect vows to wield tariffs against opioid flows", "The president-elect pledged to"
     " use tariffs on imports until the flow of opioids into the country stops.", "sanctions",
     True),
    ("Abolish stamp duty on UK shares, City lobby urges", "Scrapping the duty would help revive a"
     " flagging stock market, according to a report by a City lobby group.", "sanctions", False),
    # a group designated as terrorist, however long its name
    ("Government moves to outlaw militant movement", "Ministers said they would designate the"
     " transnational militant movement a terrorist organisation under the new act.", "sanctions",
     True),
    # a price war between shops is no war and no truce
    ("Supermarkets' price truce collapses as chains cut milk prices", "Two of the country's"
     " biggest grocers ended their price truce on Monday.", "talks", False),
    # a measure named by its notice's own formula: a visa bar, a denial order, an emergency
    # order's title, goods that need a licence to leave for a state
    ("Public Designation of Former Honduran Police Chief for Gross Violations of Human Rights",
     "Under Section 7031(c), he and his wife are ineligible for entry into the United States.",
     "sanctions", True),
    ("Commerce issues temporary denial order against Russian cargo airline", "The order cuts the"
     " carrier off from U.S.-origin parts for 180 days.", "sanctions", True),
    ("Addressing Threats to the United States by the Government of Nicaragua", "The order takes"
     " effect in seven days.", "sanctions", True),
    ("Tokyo adds drones to goods requiring a licence for export to Russia", "The trade ministry"
     " said the rule takes effect next month.", "sanctions", True),
    # ports and a consulate closed to a state, like an expulsion
    ("Finland closes ports to Russian fishing fleet", "The ban takes effect in June, the ministry"
     " said.", "sanctions", True),
    ("Czech Republic orders closure of Russian consulate in Brno", "Staff were given a month to"
     " leave the country.", "sanctions", True),
    # a cap on household energy bills is no oil price cap
    ("Regulator raises energy price cap for winter", "Household bills will rise by 10% from"
     " October.", "sanctions", False),
    # consultations between foreign ministries by their name, and a call named by its means
    ("Vietnam-Indonesia Foreign Office Consultations held in Hanoi", "Vice ministers led the two"
     " sides.", "talks", True),
    ("Erdogan proposes Black Sea shipping platform", "Speaking with President Zelensky by phone,"
     " the Turkish president proposed a platform for safe navigation.", "talks", True),
    # a sports truce and a trade show are no talks
    ("Rival clubs agree truce to let away fans return", "The two clubs and the city's security"
     " office will readmit visiting supporters.", "talks", False),
    ("Minister opens industrial summit in Jeddah", "More than 400 exhibitors show mining"
     " technology.", "talks", False),
    # a call readout under another name is talks news only
    ("President Macron holds telephone conversation with President Erdogan", "Emmanuel Macron"
     " urged Turkey to back a ceasefire in Gaza and the release of hostages.", "statements",
     False),
    # a foreign ministry's displeasure and its formal protest are its statement
    ("Beijing expresses strong displeasure over Dutch chip curbs", "The foreign ministry said the"
     " move hurt trust between the two countries.", "statements", True),
    ("Seoul lodges solemn representations with Tokyo over textbook claims", "The move follows the"
     " approval of new history books.", "statements", True),
    # a fact, a call announced and an act done, each with its source, are no utterance
    ("Lithuania detects 12 drones crossing from Belarus, border guard says", "The drones were"
     " tracked for about an hour before turning back.", "statements", False),
    ("Trump and Lula to speak by phone on Friday, White House says", "The call is expected to cover"
     " the tariff dispute.", "statements", False),
    ("Canada says it imposed sanctions on 15 Iranian officials", "The measures target people"
     " linked to the crackdown on protesters.", "statements", False),
    # dialogues in the plural are talks too
    ("Wang Yi to hold strategic dialogues in Brussels and Paris", "The tour begins on Monday, the"
     " foreign ministry said.", "talks", True),
    # trade halted by a state is a measure
    ("China suspends imports of Lithuanian beef amid Taiwan dispute", "Customs officials stopped"
     " clearing shipments on Monday.", "sanctions", True),
    # a framework signed, and a signature authorised, are talks
    ("Japan and Australia sign critical minerals framework", "The two prime ministers met in Tokyo"
     " on Friday.", "talks", True),
    ("Council approves signature of framework agreement with Chile", "The decision clears the way"
     " for the ceremony next month.", "talks", True),
    # a call to wish a leader well is a courtesy; a central bank's statement is its rate decision
    ("Readout of the Prime Minister's call with President Lula", "The Prime Minister called"
     " President Lula to wish him a happy birthday.", "talks", False),
    ("Federal Reserve issues FOMC statement", "The Committee decided to keep the target range for"
     " the federal funds rate unchanged.", "statements", False),
    # parties forming a government, a firm's exclusive talks, doctors' pay talks are no diplomacy
    ("Belgian parties reach deal to form a government", "The five parties agreed on a budget after"
     " seven months of negotiations.", "talks", False),
    ("Media group enters exclusive talks with rival over sale", "The board said it had received an"
     " improved offer.", "talks", False),
    ("Junior doctors' talks with government collapse", "The union said the strike would go ahead"
     " next week.", "talks", False),
    # a licence requirement for goods bound for a state, and tariffs on whoever buys its oil
    ("Japan widens licence requirement for chip tools bound for China", "Exporters will need a"
     " permit from next month.", "sanctions", True),
    ("Washington threatens 20% tariff on any country buying Iranian oil", "The levy would apply to"
     " all trade with the United States.", "sanctions", True),
    # guard: a ministry's protest at a tariff imposed on it is its statement ("says it imposed"
    # is an act; "said the tariff imposed … was unfair" is not)
    ("Brazil calls US penalty 'unjustified'", "Brazil's foreign ministry said the extra tariff"
     " imposed over the trial was unfair and vowed to defend the country's interests.",
     "statements", True),
    # talks scheduled with their source after, and contacts reported by sources, are talks news
    ("Armenia, Azerbaijan to hold border talks in Tbilisi next week, Georgia says", "Delegations"
     " led by deputy prime ministers will meet on Tuesday.", "statements", False),
    ("Saudi and Iranian officials held secret contacts in Baghdad, sources say", "The meetings"
     " explored reopening embassies, four people familiar with them said.", "statements", False),
    # a headline's fact or decision with its source after is no utterance; a vow is (guard)
    ("Russia launched 300 drones and 20 missiles overnight, Ukraine's air force says", "Air"
     " defences shot down most of the drones, the air force said.", "statements", False),
    ("Norway approves record aid package for Ukraine, finance ministry says", "Parliament signed"
     " off on the spending on Friday, the ministry said.", "statements", False),
    ("Ukraine will never sign a deal that cedes territory, Zelensky says", "The president said"
     " Kyiv would not trade land for peace.", "statements", True),
])
def test_named_kinds(default_classifier, title, summary, label, expected):
    assert (label in default_classifier.classify(title, summary).labels) == expected


@pytest.mark.parametrize("name, floor", [
    # A little under what the bundled rules reach (0.906, 0.933, 0.943, 0.932, 0.861, 0.905,
    # 0.886, 0.843, 0.792, 0.839, 0.872; desk2 0.937 since the talks-with-a-source exclusion).
    ("kinds.tsv", 0.900), ("desk2.tsv", 0.925), ("desk3.tsv", 0.935), ("desk4.tsv", 0.925),
    ("gov_sanctions.tsv", 0.855), ("gov_talks.tsv", 0.895), ("gov_statements.tsv", 0.880),
    ("desk5.tsv", 0.835), ("wire_sanctions.tsv", 0.780), ("wire_talks.tsv", 0.835),
    ("wire_statements.tsv", 0.865),
])
def test_desk_probes_floor(default_classifier, name, floor):
    """The desk probes are invented items labelled by readers who never saw the rules (see
    the probes README): a floor on each keeps a rule change from quietly undoing a kind."""
    assert evaluate(default_classifier, read_tsv(PROBES / name)).macro_f1 >= floor
