"""Kinds of item that fresh wires drawn like a desk's traffic (government releases, readouts,
executive actions, sanctions vocabulary) showed: talks in a release's own words (conversations in
the plural, trade deals, corridors, ratification, a leader landing abroad), home business that
shares their words (party bargaining, briefings with business owners, courtesy calls, a mayor
abroad, a visit as the setting), sanctions a court, a health authority or a firm imposes, a
designation as an epithet or to an office, a court's or a sports body's sanctions, "sanction" as
to authorise, sanctions as the cause of other news, a bare travel ban, and home affairs, party
politics, aid agencies, forecasts and data releases read as statements.
Invented sentences, one per kind (none is taken from an eval file)."""
from __future__ import annotations

import pytest

@pytest.mark.parametrize("title, summary, label, expected", [
    # talks found
    ("Telephone conversations with President of Kenya and Prime Minister of Ethiopia",
     "The President had telephone conversations with President of the Republic of Kenya William Ruto"
     " and Prime Minister of the Federal Democratic Republic of Ethiopia Abiy Ahmed.", "talks", True),
    ("President Announces Trade Deal with Vietnam",
     "Today, the President announced a landmark trade deal with Vietnam.", "talks", True),
    ("Four humanitarian corridors agreed for Sumy region",
     "As of Tuesday, four humanitarian corridors have been agreed to evacuate residents of towns"
     " affected by the shelling.", "talks", True),
    ("Signed: Instrument of Ratification of the Minamata Convention on Mercury",
     "Today the President signed the instrument of ratification of the Minamata Convention on"
     " Mercury.", "talks", True),
    ("Philippine president arrives in Japan amid protests",
     "The Philippine president is in Japan for a multi-day itinerary.", "talks", True),
    # not talks
    ("Budget deal reached after weeks of wrangling",
     "The agreement comes after weeks of tense negotiations among the ruling parties.", "talks", False),
    ("Readout of White House Briefing with Midwest Business Leaders",
     "On Thursday, the White House hosted more than 50 small business owners from Iowa, Ohio and"
     " Michigan for a discussion on the Administration's actions to support rural entrepreneurs.",
     "talks", False),
    ("Readout of National Security Advisor's Call with Ghana's National Security Coordinator",
     "The National Security Advisor spoke today with Ghana's National Security Coordinator and"
     " underscored our strong bilateral cooperation on maritime security.", "talks", False),
    ("First Lady held a conversation with the First Lady of Portugal",
     "The First Lady had a phone conversation with the First Lady of Portugal and thanked her for"
     " hosting Ukrainian children.", "talks", False),
    ("France plans to spend €5bn on new frigates",
     "France is in talks with two defence contractors to build a new class of frigates, according"
     " to people familiar with the matter.", "talks", False),
    ("London Mayor meets with Modi in New Delhi",
     "The mayor held a meeting on trade links between the two cities during a trip to India.",
     "talks", False),
    ("Kidnappings revive an old debate", "The abductions have revived a long-running debate in"
     " Europe about whether to negotiate with kidnappers.", "talks", False),
    ("Canada sends air defence system to Ukraine",
     "Canada has delivered an air defence system to Ukraine, Canadian Prime Minister Mark Carney"
     " announced during a visit to Kyiv on Monday.", "talks", False),
    # sanctions found
    ("Canada moves to restrict Iranian visas",
     "Ottawa will tighten visas for applicants from Iran.", "sanctions", True),
    ("Treasury acts against prison gang", "The Department of the Treasury today designated the gang"
     " as a transnational criminal organization.", "sanctions", True),
    # not sanctions
    ("EU weighs antitrust sanctions on chipmaker", "The competition authority could impose antitrust"
     " sanctions on the company as early as next month.", "sanctions", False),
    ("Neighbours impose travel bans as new Covid variant spreads", "Several countries imposed travel"
     " bans on arrivals from the region after a surge in Covid-19 cases.", "sanctions", False),
    ("Militia leader killed in strike", "The militia, a US-designated terrorist organization, has"
     " attacked shipping in the Red Sea for months.", "sanctions", False),
    ("Governor names new port authority board", "The governor designated five individuals to serve"
     " on the board of the port authority.", "sanctions", False),
    ("Fact Sheet: President Expands Sugar Imports", "Today, the President signed a Proclamation"
     " increasing the U.S. tariff-rate quota for raw cane sugar.", "sanctions", False),
    ("Russian steelmaker reports record profit", "The company said the economy is adapting quickly"
     " to Western sanctions.", "sanctions", False),
    # not statements
    ("Statement by Press Secretary on the Extension of the Eviction Moratorium",
     "The Administration welcomes the extension of the moratorium, which keeps families in their"
     " homes.", "statements", False),
    ("Cocoa shortage could last into next year, Ghana's largest grower warns",
     "Dry weather in West Africa has cut the harvest.", "statements", False),
    ("Presidential Message on National Vietnam War Veterans Day",
     "Today, our Nation honors the veterans who served in Vietnam.", "statements", False),
    ("Colombia says agreement reached with ELN rebels on a six-month truce",
     "The ceasefire begins on Monday.", "statements", False),
    ("Washington says sanctions likely on Venezuelan oil firm",
     "Officials are weighing measures against the state oil company.", "statements", False),
    # not talks
    ("Readout of White House Meeting with Governor Moore", "Today, senior administration officials"
     " met with Maryland Governor Wes Moore to discuss recovery efforts after the bridge collapse.",
     "talks", False),
    ("Officials hold listening session with Haitian American community leaders",
     "Senior administration officials hosted a meeting with Haitian American community leaders to"
     " discuss housing and the Administration's efforts for the community.", "talks", False),
    ("Zambia PM welcomes IMF mission for bailout talks",
     "An IMF mission is in Lusaka for talks on a three-year loan.", "talks", False),
    ("Statement from the President on Lower Drug Prices", "Medicare will negotiate the prices of ten"
     " more medicines next year, saving seniors billions.", "talks", False),
    ("Opposition parties hold talks on a joint candidate for the presidency",
     "The two parties met on Sunday but failed to agree on who should lead their ticket.",
     "talks", False),
    ("Russian defence minister in surprise trip to occupied Zaporizhzhia", "The minister visited"
     " command posts in the occupied south of Ukraine, state media reported.", "talks", False),
    ("Olena Zelenska spoke with the First Lady of Estonia",
     "The two first ladies discussed summer camps for Ukrainian children.", "talks", False),
    # not sanctions
    ("Judge sanctions chemical maker's lawyers for hiding documents", "The federal judge ordered"
     " the firm's counsel to pay $250,000 for misleading the court during discovery.",
     "sanctions", False),
    ("Club board refuses to sanction the transfer of its captain", "Directors said they were"
     " unwilling to sanction a move before the end of the season.", "sanctions", False),
    ("Airline lands first flight in Tripoli in a decade", "The plane touched down on Monday, the"
     " first such landing since UN sanctions were imposed on the country in 2011.",
     "sanctions", False),
    ("Creditors go to court over collapsed shipping group", "Lenders obtained an injunction in the"
     " High Court on Tuesday to freeze the assets of the group's founder.", "sanctions", False),
    ("Tankers carrying sanctioned crude crowd Malaysian waters", "Dozens of ageing vessels have"
     " gathered off the coast, satellite images show, as port congestion grows.",
     "sanctions", False),
    # not statements
    ("Aid agencies warn of famine in Sudan as fighting spreads", "International aid agencies warned"
     " that millions of people in Sudan face famine as the war between the army and the RSF"
     " spreads to new states.", "statements", False),
    ("Finance minister warns of tough IMF bailout terms", "Sri Lanka's finance minister warned"
     " lawmakers that the IMF bailout would demand deep spending cuts next year.",
     "statements", False),
    ("Presidential Message on the Birthday of the United States Marine Corps", "Today we celebrate"
     " the 249th birthday of the United States Marine Corps, whose Marines have answered the call"
     " in every war of our Nation.", "statements", False),
    ("Japan says radar detected Chinese drone near Yonaguni", "Japan's defence ministry said its"
     " radar detected a Chinese military drone flying between Yonaguni and Taiwan on Monday.",
     "statements", False),
    ("Egypt keeps bread subsidy unchanged", "Egypt will keep the price of subsidised bread"
     " unchanged this year, a government statement said on Sunday.", "statements", False),
    # guards: the diplomatic use of the same words
    ("EU court upholds sanctions on Russian tycoon", "The General Court dismissed the"
     " businessman's appeal against the asset freeze.", "sanctions", True),
    ("UK sanctions lawyers who helped oligarchs hide wealth", "The Foreign Office froze the assets"
     " of five lawyers.", "sanctions", True),
    ("Fuel prices to rise again, finance ministry says", "The government is holding talks with the"
     " International Monetary Fund this week to unlock the next tranche of its loan.", "talks",
     False),
    ("Power outages discussed at a conference call with the President", "Repairs to the grid were"
     " discussed at a conference call chaired by the President.", "talks", False),
    ("Kenyan troops depart for peace mission in Haiti",
     "Four hundred Kenyan soldiers left Nairobi to join a peace mission in Haiti.", "talks", False),
    ("Nurses press prime minister on ceasefire in open letter", "More than 2,000 nurses have signed"
     " an open letter pressing the prime minister on a ceasefire in Gaza.", "talks", False),
    ("Outgoing president hosts successor for talks on transition of power", "The outgoing"
     " president met the president-elect at the palace on Monday for talks on the transition of"
     " power.", "talks", False),
    ("India, Japan ink MoU on semiconductor supply chains",
     "The two governments agreed to cooperate on chip supply chains.", "talks", True),
    ("Gas pipeline start-up delayed by US sanctions",
     "The operator said shipments would not begin before spring.", "sanctions", False),
    ("County lifts travel ban after floods", "Residents may drive on the coastal road again from"
     " Monday, the county council said.", "sanctions", False),
    ("Banks weigh sanctions risk of new payment link",
     "Compliance officers at three lenders said they were reviewing the scheme.", "sanctions",
     False),
    ("Satellite images show tanker at port", "The tanker is owned by a shipping company that has"
     " been sanctioned by the U.S., records show.", "sanctions", False),
    ("Japan to designate Hamas's military wing as a terrorist group",
     "The cabinet is expected to approve the move on Tuesday.", "sanctions", True),
    ("EU imposes travel bans on Belarus officials",
     "The bloc barred 40 officials over the crackdown.", "sanctions", True),
    ("Kenyan president urges party unity as succession race heats up", "The president called for"
     " unity on Tuesday amid open feuding within the ruling party over who will succeed him.",
     "statements", False),
    ("Should we fear Moscow's new missile deployment? Not yet", "The deployment has drawn"
     " condemnation from NATO, but analysts say it changes little.", "statements", False),
    ("Washington to target shippers helping Iran", "The United States said Tuesday it will impose"
     " sanctions on foreign shipping firms carrying Iranian oil.", "statements", False),
])
def test_desk_kinds(default_classifier, title, summary, label, expected):
    assert (label in default_classifier.classify(title, summary).labels) == expected
