"""Kinds of item that fresh wires, drawn like a feed's traffic, showed sharing the words of talks,
sanctions or statements while being none (or one label less): a visit alone in a headline, a
release naming its host with his own state, a readout's courtesies, home affairs, business and
sport; many are penalties, evidence against a label from either field. Invented sentences, one
per kind (none is taken from an eval file); the guard rows keep the diplomatic use of the same
words."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("title, summary", [
    # A visit alone in a headline is no more talks than a meeting alone.
    ("Prime minister visits flood-hit farms in the north", ""),
    # A release names its host with his own state before the verb: not a counterpart abroad.
    ("", "President of Ukraine Volodymyr Zelenskyy visited the training ground of a tank brigade"
         " near Lviv."),
    # A feature's or a show's title, where no one meets.
    ("Meet the French volunteers cooking for Ukraine's refugees", ""),
    ("Meet the Russian dissidents who fled to Georgia", ""),
    # A readout of a meeting with groups at home.
    ("Readout of White House Meeting with Vaccine Manufacturers",
     "Senior officials met with manufacturers of vaccines from France and Germany to discuss"
     " supply."),
    # A past visit recalled as background.
    ("", "The envoy, who resigned in March, said during his last visit to Cairo that the plan was"
         " dead."),
    # A call that only congratulates is a courtesy (the lede outweighs the readout headline).
    ("Readout of the President's Call with Prime Minister Kovač of Croatia",
     "The President spoke today with Prime Minister Ivan Kovač of Croatia to congratulate him"
     " on his party's victory in the parliamentary elections."),
    # Sport, labour, party politics at home, business and markets.
    ("Marlins ink ace to $90M deal", "The left-handed pitcher was the top free agent of the"
     " offseason."),
    ("Mayor hails progress in talks at city depots",
     "Bus drivers who have been on strike since May will hear the new offer on Friday."),
    ("Governor steps in at the studios",
     "The governor offered to help negotiate an end to the long strikes at the studios."),
    ("Senators near deal on border package",
     "Republicans and Democrats said negotiations on the package could conclude this week."),
    ("Saudi fund, Kia sign deal for $300m assembly plant",
     "The joint venture with the South Korean automaker will build 50,000 cars a year."),
    # An accord recalled as history; a consular visit.
    ("In Derry, the murals still divide",
     "The walls still stand 25 years after the peace deal that ended the violence."),
    ("Diplomats allowed to visit detained Canadian",
     "Canadian embassy officials were allowed to visit a citizen detained on espionage charges."),
    # A state's own security council in session.
    ("Security Council meeting",
     "The President chaired a meeting of the Russian Federation Security Council on Friday."),
])
def test_not_talks(default_classifier, title, summary):
    assert "talks" not in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    ("Foreign minister visits Beijing", ""),
    ("Turkish minister visits Baghdad for talks", ""),
    ("Readout of the President's Call with President Ruto of Kenya",
     "The President spoke with President William Ruto of Kenya about the crisis in Sudan and"
     " efforts toward a ceasefire."),
    ("Ukraine peace talks resume in Istanbul", "Delegations met on Monday."),
])
def test_talks_guards(default_classifier, title, summary):
    assert "talks" in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    # A host's words on the visit itself are the readout of a meeting.
    ("", "President Erdogan met with President of Azerbaijan Ilham Aliyev. The Head of State"
         " stressed the importance of this visit for the region."),
    # A passive in the perfect: no speaker utters anything.
    ("", "The government of Chile has been accused by a rights group of abuses at the border."),
    ("", "The agreement with Japan has been hailed as a turning point by the minister."),
    # Guests welcomed to the White House under long titles: a meeting announced.
    ("", "On Friday, President Biden will welcome President Lula of Brazil and Prime Minister"
         " Albanese of Australia to the White House."),
    # A readout's affirmed commitment, a dotted U.K. counting as two words.
    ("", "The President reaffirmed the enduring U.K. commitment to NATO during the summit."),
    # A statement document on a home topic: a court case, pensions, a crash at home.
    ("Statement from President Joe Biden on Smith v. Jones",
     "No one should fear an abuser with a gun. Today's ruling must stand, and I urge Congress"
     " to act."),
    # An opinion headline argues; a body "called upon" utters nothing.
    ("Why Europe should welcome Ukraine's refugees", ""),
    ("Gulf states called upon to lead", "Leaders of the Gulf Cooperation Council have been called"
     " upon to take the lead on financing Africa's climate action."),
    # An opposition leader speaks for no government.
    ("Georgia is sliding towards Moscow, opposition leader warns", ""),
    # An official on home affairs: immigration, sport.
    ("Dutch minister vows faster deportations",
     "The migration minister vowed on Monday to speed up deportations of rejected asylum"
     " seekers."),
    # A document calling for something is no speaker; a firm's statement speaks for the firm.
    ("Arab Americans protest over Gaza veto", "Residents in Dearborn describe anger after the"
     " US vetoed a UN resolution calling for a ceasefire in Gaza."),
    ("Google ends free photo storage in India",
     "Google will stop offering unlimited free photo storage to new users in India. In a"
     " statement to The Verge, a Google spokesperson confirmed that existing users are not"
     " affected."),
    # A call readout is talks only.
    ("Readout of President Biden's Call with Prime Minister Trudeau of Canada",
     "President Biden spoke with Prime Minister Justin Trudeau of Canada and expressed his deep"
     " condolences for the victims of the train derailment in Quebec."),
    # Criticism as a noun; an agency's statement as a fact's source.
    ("Belarusian poet jailed over anti-war leaflets", "Poet Ales Kazlou was convicted of"
     " extremism after handing out leaflets with Ukraine war criticism in Minsk."),
    ("Apollo astronaut dies at 91", "WASHINGTON: Apollo 9 astronaut Russell Schweickart has"
     " died at 91. “Today we remember a pioneer,” the US space agency said in a statement."),
    # Congratulations to athletes at home are no statement abroad.
    ("Congratulations to Russian skaters on winning the team event",
     "The President congratulated the skaters on their victory at the Winter Olympics."),
])
def test_not_statements(default_classifier, title, summary):
    assert "statements" not in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    ("Venezuela's foreign minister warns Guyana over disputed region", ""),
    # A disaster abroad: an appeal is a statement.
    ("UN chief urges aid for Libya flood victims", "Secretary-General António Guterres urged"
     " donors to help thousands displaced by floods in eastern Libya."),
    # A head of state's written congratulations or condolences to a foreign leader.
    ("Congratulations to President of Kenya William Ruto",
     "The President sent a message of congratulations to President of the Republic of Kenya"
     " William Ruto on his birthday."),
    ("Condolences to Prime Minister of Nepal", "The President sent condolences to Prime Minister"
     " of Nepal over the victims of the earthquake."),
])
def test_statements_guards(default_classifier, title, summary):
    assert "statements" in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary, labels", [
    # Sanctions as a cause in the background, or an adjective in passing: none.
    ("Iran's airline fleet ages as spare parts run short", "The carrier, crippled by decades of"
     " Western sanctions, flies planes built in the 1980s, its chief executive said.", ()),
    ("Football club takeover approved", "The club was bought last year by a US-sanctioned"
     " tycoon, its new chairman said.", ()),
    # Ties severed, frozen funds released, trade concessions withdrawn, pressure as policy.
    ("Kiribati severs diplomatic ties with Taiwan",
     "The Pacific nation switched recognition to Beijing on Friday.", ("sanctions",)),
    ("Venezuela and US agree prisoner exchange", "The deal also releases $3 billion once frozen"
     " in European banks, officials said.", ("talks", "sanctions")),
    ("China to suspend tariff cuts for island's fruit growers",
     "The move follows the election of a new government in Taipei.", ("sanctions",)),
    ("Opposition urges EU to step up pressure on Minsk", "Exiled leaders asked the bloc to"
     " increase diplomatic and economic pressure on the Belarusian government.",
     ("sanctions", "statements")),
    # Ordinary tariff cuts are trade, not a measure.
    ("Vietnam announces new round of tariff cuts for Japanese goods",
     "The finance ministry said import duties on 200 products would fall next year.", ()),
    # Talks: a farewell call, a touring side, a call for better ties, greetings to a meeting at
    # home, a recent visit as background; a leaders' statement is what their meeting produced.
    ("Readout of the Vice President's Call with Prime Minister Jonas Lindqvist of Sweden",
     "The Vice President spoke today with Prime Minister Jonas Lindqvist of Sweden and thanked"
     " him for his partnership over the past four years.", ()),
    ("Springboks tour of New Zealand in doubt",
     "Organisers are still unsure whether fans will be allowed into the matches.", ()),
    ("Foreign minister calls for closer ties with Brazil",
     "She will travel to the region next month.", ("statements",)),
    ("Greetings on the opening of the Russian Geographical Society's General Meeting",
     "The President sent greetings to the participants.", ()),
    ("Senator mocks minister over remarks", "The senator said the foreign minister embarrassed"
     " the country during his recent visit to Japan.", ("statements",)),
    ("Joint Statement of the Leaders of Canada and Mexico", "The two countries reaffirm their"
     " commitment to a prosperous and secure North America.", ("talks", "statements")),
    # Statements: the debt fight at home, a pledge in a relative clause, a question, a truce
    # reported through "X says", readiness to talk, a trade's boss, a region against its capital.
    ("Senator urges party to stand firm against White House demands", "A senior senator urged"
     " colleagues on Wednesday to reject any spending deal with the White House that does not"
     " cut costs, as talks over raising the US debt ceiling drag on.", ()),
    ("Migration row: Italy's PM, who pledged to stop the boats, faces crucial test",
     "Opposition parties in Italy criticise the plan to send asylum seekers to Albania as"
     " contradicting international law.", ()),
    ("Foreign minister of Chile meets counterpart from Peru in Lima", "During the visit, the"
     " Chilean foreign minister met his Peruvian counterpart and asked about the possibility of"
     " reopening the border crossing at Chacalluta.", ("talks",)),
    ("Rebels and army agree to a 72-hour pause in fighting, Kenya says", "Mediators hope the"
     " pause in South Sudan can open the way to broader talks next week, officials said.",
     ("talks",)),
    ("Thai opposition ready to talk to PM on election timetable", "The main opposition party in"
     " Thailand is ready to talk to the prime minister about the timetable for a general"
     " election, its leader said on Monday.", ()),
    ("Sanctions on Iranian oil hit shipping margins, says tanker boss", "Charter rates for"
     " tankers loading in the Gulf have fallen by a third since the new U.S. measures took"
     " effect, the chief executive of a Greek shipping firm said.", ("sanctions",)),
    ("Jeju province rejects central government order on U.S. radar site", "The island province"
     " on Tuesday rejected the central government's order to approve construction permits for"
     " the radar station, deepening a years-long dispute.", ()),
])
def test_label_sets(default_classifier, title, summary, labels):
    assert default_classifier.classify(title, summary).labels == labels
