"""Earshot's demo data: a fortnight of invented mentions, plus the staff history of working them.

Every text, name and handle here was written for Earshot and is fictional; nothing is
copied from real posts, data sets or websites. Timestamps are relative to `now`, so the
demo always looks current, and every id is derived from the seed alone, so loading the
demo again (even days later) refreshes the same mentions instead of adding new ones.

    python demo.py > demo.jsonl     # the records, in Earshot's import format
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import clock
import formats
import store

# --- Constants --------------------------------------------------------------------

DEMO_USERS = [
    ("admin", "admin", "Admin"),
    ("sam", "agent", "Sam"),
    ("alex", "agent", "Alex"),
    ("pat", "viewer", "Pat"),
]
AGENTS = ("sam", "alex")
AGENT_NAMES = {"sam": "Sam", "alex": "Alex"}
META_KEY = "demo_loaded_at"
DAYS = 14
SPIKE_DAYS_AGO = 3  # the Lumina Mobile outage: 06:00-09:00 UTC, three calendar days ago, then recoveries
# Outage mentions on top of the day's usual traffic. Enough that the busiest hour
# (about 40, against well under one usual at that hour) clears the shipped [alerts]
# thresholds (min_mentions = 20) with room to spare, so the demo raises a real alert;
# and over within the alerts' cooldown, so it raises one alert, not two.
SPIKE_EXTRA = 64
SPIKE_X_SHARE = 0.7  # of the outage posts that could go either way, the share on X

# Mirrors config.toml; `load_demo` skips records whose brand is not configured.
BRANDS = {
    "L": {"name": "Lumina Mobile", "x": ("LuminaMobile", "LuminaHelp"), "reddit": ("LuminaMobile_Official",)},
    "P": {"name": "Parcelo", "x": ("ParceloHQ", "ParceloCares"), "reddit": ("Parcelo_Support",)},
    "V": {"name": "Voltel", "x": ("Voltel",), "reddit": ()},
}
# How a post names the brand: (text, weight) per platform.
BRAND_FORMS = {
    ("L", "x"): (("@LuminaMobile", 35), ("Lumina Mobile", 50), ("#LuminaMobile", 15)),
    ("P", "x"): (("@ParceloHQ", 35), ("Parcelo", 60), ("#Parcelo", 5)),
    ("V", "x"): (("@Voltel", 30), ("Voltel", 70)),
    ("L", "reddit"): (("Lumina Mobile", 85), ("LuminaMobile", 15)),
    ("P", "reddit"): (("Parcelo", 100),),
    ("V", "reddit"): (("Voltel", 100),),
}
DAILY = {"L": (9, 12), "P": (7, 9), "V": (3, 5)}  # base mentions per day, inclusive range
LANG_DECK = ("th", "th", "es", "es") + ("en",) * 21  # 8% Thai, 8% Spanish
X_SHARE = {"en": 0.52, "th": 0.8, "es": 0.8}
HOUR_WEIGHTS = (1.2, 0.7, 0.4, 0.3, 0.3, 0.5, 1.2, 2.4, 3.2, 3.6, 3.6, 3.5,
                4.0, 3.8, 3.4, 3.4, 3.6, 4.2, 4.6, 5.0, 5.2, 4.6, 3.4, 2.2)  # fmt: skip

# --- Slot values ------------------------------------------------------------------

CITIES = ("Leeds", "Manchester", "Bristol", "Glasgow", "Cardiff", "Norwich", "Sheffield", "Leicester",
          "Brighton", "Newcastle", "Nottingham", "Liverpool", "Hull", "Derby", "Exeter", "York", "Coventry",
          "Swansea", "Aberdeen", "Belfast", "Reading", "Plymouth", "Southampton", "Bradford", "Edinburgh",
          "Wakefield", "Stockport", "Milton Keynes")  # fmt: skip
NORTH_CITIES = ("Leeds", "Bradford", "Wakefield", "Sheffield", "York", "Hull", "Harrogate", "Huddersfield",
                "Halifax", "Doncaster", "Manchester", "Stockport")  # fmt: skip
CITIES_TH = ("ลอนดอน", "แมนเชสเตอร์", "ลีดส์", "เบอร์มิงแฮม", "บริสตอล", "เอดินบะระ")
CIUDADES = ("Londres", "Mánchester", "Edimburgo", "Leeds", "Bristol", "Liverpool", "Brighton")
TIMES = ("6am", "7am", "half 7", "8:15", "about 9", "lunchtime", "10am", "11:30", "2pm", "4pm", "teatime", "8pm")
SPIKE_TIMES = ("6am", "ten past 6", "about half 6", "6:40", "7am", "first thing", "before 7")
TIMES_ES = ("las 7", "las 8 y media", "las 10", "mediodía", "las 4", "las 9 de la noche")
COUNTRIES = ("Spain", "France", "Greece", "Turkey", "Portugal", "Italy", "Croatia", "the US", "Switzerland",
             "Norway", "Iceland", "Morocco")  # fmt: skip
COUNTRIES_ES = ("Portugal", "Francia", "Italia", "Marruecos", "Grecia", "Suiza")
PHONES = ("iPhone 15", "iPhone 13 mini", "Pixel 8", "Pixel 7a", "Galaxy S24", "Galaxy A54", "Nothing Phone (2)",
          "Xperia 10 V", "Moto G84", "OnePlus 12", "iPhone SE")  # fmt: skip
PLANS = ("Lumina Flex 30GB", "Lumina Unlimited", "Lumina Basics 8GB", "Lumina Family 100GB", "Lumina SIM Only 50GB")
ITEMS = ("birthday present", "laptop", "pair of trainers", "set of plates", "coffee machine", "phone case",
         "box of books", "mirror", "guitar pedal", "bike helmet", "record player", "winter coat", "baby monitor",
         "printer")  # fmt: skip
ITEMS_TH = ("หนังสือ", "เสื้อผ้า", "ขนม", "รองเท้า", "ของขวัญ")
STREETS = ("Briggate", "Market Street", "Queen Street", "Park Row", "High Street", "Church Street", "Bold Street")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

# --- Templates ----------------------------------------------------------------------
# (brand, language, kind, category, text). kind: "any" = an X post or a Reddit comment,
# "x" = X only, "post" = a Reddit submission (title, blank line, body).

TEMPLATES = (
    # Lumina Mobile, English
    ("L", "en", "any", "outage", "No signal on {brand} since {time} in {city}. Is there an outage or is it just me?"),
    ("L", "en", "any", "outage", "{brand} data has been crawling all evening in {city}. 0.3 Mbps on 5G, what's going on?"),
    ("L", "en", "any", "outage", "Calls keep dropping after about 20 seconds on {brand}. Third time today. {city} area."),
    ("L", "en", "any", "outage", "Is {brand} down? Phone says SOS only and I've restarted it {n} times"),
    ("L", "en", "any", "outage", "Anyone else on {brand} in {city} with no mobile data? Wi-Fi calling is the only thing keeping me going"),
    ("L", "en", "any", "outage", "Texts on {brand} arriving hours late today. My mum's message from {time} only just came through. {city}"),
    ("L", "en", "any", "billing", "{brand} charged me twice this month: {amount} went out on the 1st and again on the 3rd. Who do I talk to?"),
    ("L", "en", "any", "billing", "Just got a {fee} roaming charge from {brand} for a weekend in {country}. Your website said roaming was included on my plan!"),
    ("L", "en", "any", "billing", "Why has my {brand} bill gone up by {amount2} without a single email telling me?"),
    ("L", "en", "any", "billing", "{brand} still billing me for a {phone} I sent back {days} weeks ago. Returns receipt and all."),
    ("L", "en", "any", "billing", "Took out {plan} for {amount} a month, first bill is {amount_hi}. Explain please {brand}"),
    ("L", "en", "any", "billing", "Got charged {amount2} for 'premium texts' on {brand} that I never signed up to. How do I block these?"),
    ("L", "en", "any", "account", "Locked out of my {brand} account after a password reset. The 2FA code never arrives. Tried {n} times."),
    ("L", "en", "any", "account", "The {brand} app logs me out every time I open it. Reinstalled twice. {phone}."),
    ("L", "en", "any", "account", "How am I meant to get a 2FA code by text when the problem is that my {brand} SIM doesn't work? {n} days now."),
    ("L", "en", "any", "account", "{brand} online chat keeps asking me to verify with a code sent to an old number I haven't had since {year}"),
    ("L", "en", "any", "cancel", "{days} days of rubbish signal in {city}. If {brand} can't fix it I'm off to Voltel when the contract ends."),
    ("L", "en", "any", "cancel", "How do I get a PAC code out of {brand}? Done with this. {n} dropped calls today."),
    ("L", "en", "any", "cancel", "Seriously considering cancelling {brand}. Paying for {plan} and getting 3G speeds in {city}."),
    ("L", "en", "any", "cancel", "{brand} wants a {fee} exit fee to leave a contract for a service that doesn't even work at my house. No thanks."),
    ("L", "en", "any", "legal", "{weeks} weeks since my complaint to {brand} and still no resolution. Ombudsman referral going in this week."),
    ("L", "en", "any", "legal", "{brand} if the refund isn't in my account by {weekday} I'm escalating to the ombudsman. Case ref {ref}."),
    ("L", "en", "any", "legal", "Reported {brand} to trading standards for selling me a 'coverage guaranteed' plan in a dead zone in {city}."),
    ("L", "en", "any", "privacy", "Someone ported my number out of {brand} without my permission. My bank is now texting THEM. Need help urgently."),
    ("L", "en", "any", "privacy", "A {brand} store assistant in {city} read my date of birth and address out loud in a queue of {n} people. Not okay."),
    ("L", "en", "any", "privacy", "Got an email from {brand} with another customer's bill attached. Their name, address, everything. How is that allowed?"),
    ("L", "en", "any", "safety", "The charger I bought in the {brand} store in {city} got so hot it melted the socket cover. Photos attached."),
    ("L", "en", "any", "safety", "{brand} store on {street} in {city} has a loose glass panel on the display cabinet that nearly fell on my kid. Please sort it."),
    ("L", "en", "any", "q_esim", "Does {brand} support eSIM on the {phone}? Can't find it anywhere in the app."),
    ("L", "en", "any", "q_hours", "What time does the {brand} shop in {city} open on Sundays?"),
    ("L", "en", "any", "q_esim", "Does {brand} do Wi-Fi calling on the {phone} yet? My kitchen is a dead zone."),
    ("L", "en", "any", "question", "Going to {country} next week. Is roaming included on {plan} or do I need an add-on? {brand}"),
    ("L", "en", "any", "question", "Can I keep my number if I move to {brand} from Voltel? How long does the switch take?"),
    ("L", "en", "any", "question", "Is there a student discount on {brand} SIM-only? Asking for my daughter starting uni in {city}."),
    ("L", "en", "any", "praise", "Shout out to the {brand} store in {city}: sorted my eSIM transfer in 10 minutes and didn't try to upsell me once."),
    ("L", "en", "any", "praise", "Credit where it's due, {brand} 5G in {city} is genuinely quick now. {speed} Mbps on the train."),
    ("L", "en", "any", "praise", "Had a billing problem with {brand}, support fixed it and refunded {amount2} within an hour. Didn't expect that!"),
    ("L", "en", "any", "praise", "Been with {brand} {years} years, never had a reason to leave. Signal even works at my nan's in the middle of nowhere near {city}."),
    ("L", "en", "x", "news", "{brand} opens a new flagship store on {street}, {city} this weekend, with free screen checks for the first 100 visitors."),
    ("L", "en", "x", "news", "{brand} reports {pct}% subscriber growth last quarter, driven by SIM-only plans."),
    ("L", "en", "x", "news", "{brand} and Greenway Supermarkets team up: top-ups at the tills in {n}00 stores from next month."),
    ("L", "en", "any", "news", "{brand} is switching off 3G in {city} next month. Worth checking any old phones, alarms or car trackers."),
    ("L", "en", "any", "sarcasm", "Love paying {amount} a month to {brand} for a service that doesn't work. Living the dream."),
    ("L", "en", "any", "sarcasm", "Thanks {brand} for the surprise roaming charge. Nothing says holiday like {fee} for looking at a map in {country}."),
    ("L", "en", "any", "sarcasm", "Oh good, {brand} is 'improving the network' in {city} again. Translation: no signal until {weekday}."),
    ("L", "en", "any", "sarcasm", "Wow {brand}, {mins} minutes of hold music. I'm really starting to love that song."),
    ("L", "en", "x", "spam", "🚀 Get FREE unlimited data on {brand}! Working method, click the link in my bio 🔥🔥 #{code}"),
    ("L", "en", "x", "spam", "{brand} discount code {code}: 30% off any plan!!! (not official, follow for more codes)"),
    # Lumina Mobile, Reddit submissions
    ("L", "en", "post", "outage", "{brand} no signal in {city}?\n\nMy phone has been on SOS only since {time}. My partner is on Voltel and is fine. Is it just our street or is anyone else having issues? Already tried restarting and reseating the SIM."),
    ("L", "en", "post", "billing", "{brand} charged me a roaming fee for {country} even though it's on the 'included' list\n\nJust back from a week in {country}. Bill came through with {fee} in roaming charges. Their website lists {country} under 'roam like at home'. Chat agent said it's because I 'connected to a partner network'. Is this worth pushing, and how?"),
    ("L", "en", "post", "cancel", "Anyone else in {city} leaving {brand}?\n\nSignal in {city} has got noticeably worse over the last couple of months. Calls drop, data stalls in the town centre. I'm out of contract in {months} months. Is Voltel any better round here or is it a network-wide thing?"),
    ("L", "en", "post", "q_esim", "Does {brand} support eSIM on the {phone}?\n\nThinking of switching over from Voltel when my contract ends. The website is vague about which phones get eSIM. Anyone here done it on a {phone}?"),
    ("L", "en", "post", "praise", "Genuinely good experience with {brand} support (double charge sorted in {n}0 minutes)\n\nHad a double charge of {amount} on my bill and expected a fight. Used the chat, and the agent refunded it while I waited and added {amount2} credit for the hassle. Posting because we only ever post complaints."),
    ("L", "en", "post", "account", "Locked out of {brand} account for {days} days, 2FA goes to my old number\n\nI changed numbers in {year} and account recovery still sends codes to the old one. Chat can't help without a code, the store in {city} says call the helpline, the helpline says use chat. Going in circles. Any tips?"),
    ("L", "en", "post", "privacy", "{brand} store in {city} added a second line to my account without asking\n\nWent in to upgrade my {phone}, came out with a second SIM on my contract that I never asked for. It's in my name. How do I get it removed, and is that even allowed?"),
    ("L", "en", "post", "news", "{brand} 3G switch-off dates for {city}\n\nGot a text today saying 3G ends in my area next month. If you have an older phone, a 3G-only alarm system or a tracker in the car, worth checking now."),
    ("L", "en", "post", "sarcasm", "{brand}'s 'unlimited' plan has a limit, who knew ({n}00GB, apparently)\n\nGot a 'fair use' warning after a month of working from home on a hotspot. Fine, I get it, but then maybe don't put UNLIMITED in letters the size of a bus on the {city} billboards?"),
    ("L", "en", "post", "outage", "{brand} data dead every evening in {city}\n\nFor about {n} weeks my data has been unusable from roughly 6 till 10 every night. Full bars, nothing loads. Mornings are fine. Is this a congested mast thing, and is there anything I can actually do apart from leave?"),
    ("L", "en", "post", "billing", "{brand} added a {amount2} 'admin fee' to my bill\n\nNo email, no text, just a new line on this month's bill called 'account administration'. Is this allowed mid-contract? I'm on {plan} and it's never been there before."),
    ("L", "en", "post", "question", "Moving to {country} for {months} months: keep my {brand} number?\n\nI need to keep my UK number for banking codes but won't use it much. Is there a cheap way to keep a {brand} SIM alive while I'm away, or should I port it to a pay-as-you-go?"),
    ("L", "en", "post", "praise", "Surprisingly good {brand} signal on the train from {city} to {city2}\n\nUsed to be a dead zone for most of the route. Did a video call the whole way today with no drops. Whatever they did to the masts along the line, it worked."),
    # Parcelo, English
    ("P", "en", "any", "delivery", "{brand} says parcel {order} was delivered at {clock}. It wasn't. No photo, no card, nothing."),
    ("P", "en", "any", "delivery", "Tracking has said 'out for delivery' for {days} days now. {brand}, what is happening with {order}?"),
    ("P", "en", "any", "delivery", "The {brand} delivery photo shows a door that isn't mine. Parcel {order} is at somebody else's house in {city}."),
    ("P", "en", "any", "damage", "{brand} driver left my parcel on the doorstep in the pouring rain. The {item} is soaked through."),
    ("P", "en", "any", "delivery", "'Sorry we missed you' card from {brand} while I was sat in the front room all day. Doorbell works fine. {city}."),
    ("P", "en", "any", "damage", "{brand} threw my parcel over the side gate. It's a {item}. Marked FRAGILE in huge letters."),
    ("P", "en", "any", "delivery", "Parcel stuck at the {city} depot for {days} days. {brand} tracking hasn't changed since {weekday}."),
    ("P", "en", "any", "billing", "Paid extra for next-day with {brand}, it arrived after {days} days. Can I get the premium back? Order {order}."),
    ("P", "en", "any", "delivery", "My {item} is coming with {brand} today and the slot is 'between 7am and 9pm'. Thanks for the precision."),
    ("P", "en", "any", "billing", "{brand} charged me {fee} twice for the same label. Refund please. Booking {order}."),
    ("P", "en", "any", "billing", "Why is there a {small_fee} 'handling fee' on a parcel sent from {city}?? It's domestic. {brand}"),
    ("P", "en", "any", "account", "Can't log in to the {brand} app, it says my email isn't registered but I've used it since {year}."),
    ("P", "en", "any", "account", "{brand} verification code never arrives so I can't change my delivery address. Parcel {order} arrives tomorrow."),
    ("P", "en", "any", "cancel", "Telling every shop I order from that I won't use {brand} again. Third lost parcel this year, {order} is the latest."),
    ("P", "en", "any", "cancel", "{brand}, if parcel {order} doesn't turn up I'm telling my small business customers in {city} to pick another courier."),
    ("P", "en", "any", "legal", "{brand} rejected my claim for the {item} they lost. Small claims court it is then."),
    ("P", "en", "any", "legal", "Going to trading standards about {brand}. Marked as delivered, parcel {order} never came, claim refused."),
    ("P", "en", "any", "privacy", "{brand} sent me a delivery notification for someone else in {city}: full name, address and phone number in the email."),
    ("P", "en", "any", "privacy", "Why does the {brand} tracking page show the driver my live location for 30 minutes after delivery? Creepy."),
    ("P", "en", "any", "scam", "PSA: a text claiming to be {brand} wants a {small_fee} redelivery fee at parcel0-redeliver[.]info. It's a scam. Don't click."),
    ("P", "en", "any", "scam", "Nearly fell for a fake {brand} text about a 'held parcel'. The real one never asks you to pay by link. Stay safe, {city}."),
    ("P", "en", "any", "scam", "Is this a real {brand} message? 'Your parcel could not be delivered, update your details at prcl-uk[.]help/{code}'"),
    ("P", "en", "any", "safety", "{brand} van doing at least 50 down our residential street in {city}, kids walking to school. Reg ends {reg}."),
    ("P", "en", "any", "safety", "{brand} driver reversed onto the pavement and nearly clipped my pram. {city}, around {time} today."),
    ("P", "en", "any", "q_hours", "Does {brand} deliver on Sundays in {city}?"),
    ("P", "en", "any", "q_tracking", "How do I track a {brand} parcel without the tracking number? Seller in {city} has gone quiet."),
    ("P", "en", "any", "q_tracking", "Can I redirect a {brand} parcel to a locker once it's out for delivery? Won't be in on {weekday}."),
    ("P", "en", "any", "q_hours", "What are the {brand} depot opening hours in {city}? Need to collect before work."),
    ("P", "en", "any", "question", "Does {brand} ship to Ireland? Need to send a {item} to my sister."),
    ("P", "en", "any", "praise", "The {brand} driver in {city} knocked, waited, and helped carry a heavy box up {n} flights of stairs. Legend."),
    ("P", "en", "any", "praise", "Honestly impressed: {brand} delivered my {item} in 14 hours and sent a photo of exactly where they left it."),
    ("P", "en", "any", "praise", "{brand} claims team refunded my lost parcel in {n} days, no fuss. Thank you."),
    ("P", "en", "x", "news", "{brand} to open {n}00 new parcel lockers across {city} and surrounding towns by summer."),
    ("P", "en", "x", "news", "{brand} posts record half-year revenue as online shopping volumes recover; {pct}% more parcels than last year."),
    ("P", "en", "x", "news", "{brand} partners with Greenway Supermarkets to add drop-off points in {n}20 stores."),
    ("P", "en", "any", "news", "{brand} is trialling electric cargo bikes for city centre deliveries in {city}."),
    ("P", "en", "any", "sarcasm", "Amazing work {brand}, my parcel has visited {city} three times this week. Better travelled than me."),
    ("P", "en", "any", "sarcasm", "Love how {brand} 'delivered' my {item} to the exact GPS coordinates of a hedge."),
    ("P", "en", "any", "sarcasm", "10/10 {brand}, left my {item} in the recycling bin. Technically out of the rain I guess."),
    ("P", "en", "x", "spam", "Earn £{n}00 a day from home!! Ask me how 💰💰 {brand} #LuminaMobile #giveaway #{code}"),
    ("P", "en", "x", "spam", "Follow for follow 🔁 {brand} giveaway, repost to win a games console 🎮 ends {weekday}!!"),
    ("P", "en", "any", "spam", "{brand} promo code {code} works at checkout for 40% off shipping (link in bio, DM for more)"),
    # Parcelo, Reddit submissions
    ("P", "en", "post", "delivery", "{brand} delivery photo shows a completely different house (parcel was a {item})\n\nParcel marked as delivered at {clock}. The photo shows a red door. My door is blue and there's no hedge. I've done the chat and they say to wait 48 hours. Anyone had this and actually got the parcel back?"),
    ("P", "en", "post", "legal", "Courier ({brand}) says my {item} was delivered, seller says not their problem. Where do I stand?\n\nOrdered a {item} for {amount_hi}. {brand} marked it as delivered but it never arrived. The seller says I have to claim with {brand}; {brand} says the seller has to claim. Who is actually responsible here, and is small claims an option?"),
    ("P", "en", "post", "scam", "Fake {brand} text doing the rounds in {city}\n\nGot one today: '{brand}: we were unable to deliver your parcel, pay {small_fee} to rebook'. The link goes to a very convincing copy of the {brand} site that asks for card details. Posting so people who search for it find this. Reported it to 7726."),
    ("P", "en", "post", "delivery", "{brand} parcel stuck at the {city} depot for {days} days\n\nTracking hasn't moved since {weekday}. Called and was told there's a 'backlog'. Does anyone know if you can just turn up and collect from the depot?"),
    ("P", "en", "post", "safety", "{brand} van blocking the pavement by a primary school in {city} every morning\n\nEvery morning at 8:30 the same van parks fully on the pavement opposite the school gates in {city}. Parents with buggies have to walk into the road. I've reported it twice. Who else can I contact?"),
    ("P", "en", "post", "question", "Is {brand} any good for a small business in {city}?\n\nI sell handmade candles, about {n}0 parcels a week, currently with a different courier who keeps breaking them. Anyone in {city} use {brand} for business? Rates, pickups, claims?"),
    ("P", "en", "post", "damage", "{brand} delivered my {item} in pieces and the claim process is a maze\n\nBox looked like it had been stood on. Took photos before opening, as everyone says to. The claim form wants the sender to start it, the sender says I should. Has anyone got a damaged-parcel claim through with {brand}, and how?"),
    ("P", "en", "post", "privacy", "{brand} tracking page showed me a stranger's address in {city}\n\nClicked the tracking link in my text and got someone else's parcel: their full name, street address and a photo of their front door. Reported it to {brand} but only got a bot reply. Is this a data breach I should report somewhere?"),
    ("P", "en", "post", "praise", "Shout out to our {brand} driver in {city}\n\nHe's learned which neighbour takes parcels when we're out, leaves a note every time, and once brought back a parcel that another courier had left at the wrong house. Whoever hires {brand} drivers round here, more like him please."),
    ("P", "en", "post", "account", "Can't change my {brand} delivery address: the verification code never comes\n\nParcel is arriving {weekday}, I'll be at work, and the app won't let me redirect without a code texted to me. Tried {n} times over two days. Any workaround?"),
    # Voltel (competitor), English
    ("V", "en", "any", "competitor", "Switched to {brand} from Lumina Mobile last month and the signal in {city} is night and day better."),
    ("V", "en", "any", "competitor", "{brand} putting prices up again in April. {pct}% this time. Anyone moved away and regretted it?"),
    ("V", "en", "any", "competitor", "{brand} 5G is live in {city} apparently. Getting {speed} Mbps, which is decent."),
    ("V", "en", "any", "competitor", "No signal on {brand} in {city} since {time}. Brilliant."),
    ("V", "en", "any", "competitor", "{brand} customer service had me on hold {mins} minutes and then cut me off."),
    ("V", "en", "any", "competitor", "Thinking of moving from {brand} to Lumina Mobile. How's the coverage in {city}?"),
    ("V", "en", "any", "competitor", "{brand} just launched unlimited data for {amount} a month. That's going to sting the others."),
    ("V", "en", "any", "competitor", "The {brand} store in {city} is closing; staff say it's moving out to the retail park."),
    ("V", "en", "any", "competitor", "{brand} charged me {amount2} for roaming in {country} and their chat says it's 'correct'."),
    ("V", "en", "any", "competitor", "Honestly {brand} has been fine for {years} years. Boring in the best way."),
    ("V", "en", "x", "competitor", "{brand} reports {pct}% higher churn this quarter as rivals cut SIM-only prices."),
    ("V", "en", "x", "competitor", "{brand} to add {n}00 new 5G masts across {city} and the surrounding area this year."),
    ("V", "en", "any", "competitor", "{brand} eSIM setup took two minutes on my {phone}. Painless."),
    ("V", "en", "post", "competitor", "{brand} 5G in {city}: some actual speed tests\n\nRan tests at {n} spots around town over a week. Median download was about {speed} Mbps, uploads poor, and indoors it drops back to 4G a lot. Decent, not the revolution the adverts promise."),
    ("V", "en", "post", "competitor", "Left {brand} after {years} years: here's why\n\nNot one big thing. Prices up {pct}% two years running, a store that closed, and a support chat that takes an hour. Coverage was fine. Moved to SIM-only elsewhere and saved {amount2} a month."),
    ("V", "en", "post", "competitor", "{brand} vs Lumina Mobile in {city}?\n\nMoving to {city} next month and I work from home, so I need decent indoor signal. Who's better round there? Happy to pay a few quid more for something that works."),
    ("V", "en", "post", "competitor", "{brand} price rise confirmed: {pct}% from April\n\nEmail this morning: +{pct}% from April, so I'll be paying {amount} a month. That means I can leave penalty-free if I act within 30 days, right? Anyone know how strict they are about the window?"),
    # Thai
    ("L", "th", "any", "outage", "{brand} ไม่มีสัญญาณเลยตั้งแต่เช้า อยู่ที่{city_th} โทรออกก็ไม่ได้ เน็ตก็ไม่มา เกิดอะไรขึ้นคะ"),
    ("L", "th", "any", "billing", "โดนเก็บค่าโรมมิ่ง {fee} ทั้งที่ซื้อแพ็กเกจไว้แล้ว {brand} ช่วยตรวจสอบให้หน่อยครับ"),
    ("L", "th", "any", "billing", "บิล {brand} เดือนนี้แพงกว่าปกติ {amount2} ไม่มีใครแจ้งอะไรเลย"),
    ("L", "th", "any", "q_esim", "{brand} รองรับ eSIM บน {phone} หรือยังคะ หาในแอปไม่เจอ"),
    ("L", "th", "any", "praise", "พนักงาน {brand} สาขา{city_th}น่ารักมาก ช่วยย้ายเบอร์ให้เสร็จในสิบนาที ขอบคุณค่ะ 🙏"),
    ("L", "th", "any", "account", "เข้าแอป {brand} ไม่ได้ รหัส OTP ไม่ส่งมาเลย ลองไป {n} รอบแล้วครับ"),
    ("L", "th", "any", "cancel", "เน็ต {brand} ช้ามากทุกวัน หมดสัญญาเมื่อไหร่ย้ายไป Voltel แน่นอน อยู่{city_th}"),
    ("L", "th", "any", "sarcasm", "จ่ายเดือนละ {amount} ให้ {brand} เพื่อได้สัญญาณวันละสองขีด คุ้มมากเลย 🙃"),
    ("L", "th", "any", "q_hours", "ร้าน {brand} ที่{city_th}เปิดกี่โมงวันอาทิตย์ครับ"),
    ("P", "th", "any", "delivery", "{brand} แจ้งว่าส่งพัสดุแล้ว แต่ไม่ได้รับของเลย เลขพัสดุ {order} ช่วยตามให้หน่อยค่ะ"),
    ("P", "th", "any", "damage", "คนส่งของ {brand} วางกล่องไว้หน้าบ้านตอนฝนตก {item_th}ข้างในเปียกหมด 😭"),
    ("P", "th", "any", "delivery", "รอพัสดุจาก {brand} มา {days} วันแล้ว สถานะไม่ขยับเลย ({order})"),
    ("P", "th", "any", "scam", "ระวัง! มี SMS ปลอมอ้างว่าเป็น {brand} ให้จ่ายค่าส่งเพิ่ม {small_fee} อย่ากดลิงก์นะคะ"),
    ("P", "th", "any", "praise", "คนส่งของ {brand} ใจดีมาก โทรมาบอกก่อนถึง แถมช่วยยก{item_th}ขึ้นชั้นสองให้ด้วย 👍"),
    ("P", "th", "any", "q_tracking", "เช็กสถานะพัสดุ {brand} ยังไงครับ ไม่มีเลขพัสดุ คนขายที่{city_th}ก็ไม่ตอบ"),
    ("P", "th", "any", "sarcasm", "ขอบคุณ {brand} มากที่พาพัสดุของฉันไปเที่ยว{city_th}สามรอบ เก่งมาก 👏"),
    ("V", "th", "any", "competitor", "{brand} โปรใหม่ 50GB ราคา {amount} คุ้มดีนะ ใครใช้อยู่บ้าง"),
    ("V", "th", "any", "competitor", "{brand} สัญญาณหายอีกแล้ว อยู่ที่{city_th} {n} วันแล้วนะ"),
    ("V", "th", "any", "competitor", "ย้ายจาก Lumina Mobile มาใช้ {brand} ได้ {n} เดือนแล้ว เน็ตเร็วขึ้นเยอะ"),
    # Spanish
    ("L", "es", "any", "outage", "Llevo sin cobertura de {brand} desde {time_es} en {ciudad}. ¿Hay alguna avería?"),
    ("L", "es", "any", "billing", "{brand} me ha cobrado dos veces la factura de este mes ({amount}). ¿Con quién tengo que hablar?"),
    ("L", "es", "any", "billing", "Me han cobrado {fee} de roaming en {country_es} cuando mi tarifa lo incluye. Muy mal, {brand}."),
    ("L", "es", "any", "q_esim", "¿{brand} tiene eSIM para el {phone}? No encuentro la opción en la app."),
    ("L", "es", "any", "account", "No puedo entrar en mi cuenta de {brand}, el código de verificación nunca llega. Ya van {n} intentos."),
    ("L", "es", "any", "cancel", "Me paso a Voltel. {n} semanas con {brand} y se me corta cada llamada en {ciudad}."),
    ("L", "es", "any", "sarcasm", "Me encanta pagar {amount} al mes por un servicio que no funciona. Gracias, {brand} 🙃"),
    ("L", "es", "any", "q_hours", "¿A qué hora abre la tienda de {brand} en {ciudad} los sábados?"),
    ("L", "es", "any", "legal", "Si {brand} no me devuelve los {amount2} esta semana, presento una reclamación ante el defensor del cliente."),
    ("L", "es", "any", "praise", "La tienda de {brand} en {ciudad} me cambió la SIM en cinco minutos. ¡Así da gusto!"),
    ("P", "es", "any", "delivery", "Según {brand} mi pedido {order} está entregado, pero aquí no ha llegado nada."),
    ("P", "es", "any", "damage", "El repartidor de {brand} dejó mi paquete en la calle bajo la lluvia. El {item_es} está empapado."),
    ("P", "es", "any", "praise", "Gracias {brand}, el repartidor de {ciudad} fue súper amable y me avisó antes de llegar 👏"),
    ("P", "es", "any", "scam", "Ojo: SMS falso haciéndose pasar por {brand} que pide {small_fee} para 'liberar' un paquete. No piquéis."),
    ("P", "es", "any", "delivery", "Llevo {days} días esperando un paquete de {brand} y el seguimiento no se mueve ({order})."),
    ("P", "es", "any", "q_tracking", "¿Cómo cambio la dirección de entrega de un paquete de {brand} que ya está en reparto? Es para el {weekday_es}."),
    ("P", "es", "any", "sarcasm", "Qué eficiencia, {brand}: mi paquete ha ido a {ciudad} y ha vuelto. Dos veces."),
    ("V", "es", "any", "competitor", "{brand} acaba de subir precios otra vez ({pct}%). ¿Alguien más se está planteando cambiar?"),
    ("V", "es", "any", "competitor", "Con {brand} por fin tengo 5G en casa en {ciudad}, nada que ver con antes."),
    ("V", "es", "any", "competitor", "{brand} lleva toda la mañana sin datos en {ciudad}. ¿Os pasa a alguien más?"),
)  # fmt: skip

ITEMS_ES = ("libro", "abrigo", "regalo", "portátil", "juego de platos")
WEEKDAYS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes")

# The Lumina Mobile outage (brand "L"); kind "x" or "post" as above.
SPIKE_TEMPLATES = (
    ("en", "x", "outage", "@LuminaHelp no signal at all in {city} since {spike_time}. Whole office is on SOS."),
    ("en", "any", "outage", "Is {brand} down?? Nothing in {city}, no calls, no data"),
    ("en", "any", "outage", "{brand} outage? Can't call or text anyone. {city}."),
    ("en", "any", "outage", "Woke up to no signal on {brand}. Missed my lift to work because nobody could reach me. {city}"),
    ("en", "x", "outage", "{brand} down across the whole of {city} by the look of it. Status page says 'all systems operational' 🙄"),
    ("en", "any", "safety", "Couldn't get through to 999 properly on {brand} this morning in {city}. Had to use a neighbour's landline. This is dangerous."),
    ("en", "any", "outage", "Day off ruined. {brand} is down, can't book a taxi, can't pay with my phone. {city}"),
    ("en", "x", "outage", "{brand} how long is this outage going to last? I work from home on your hotspot and I've got a client call at {clock}."),
    ("en", "any", "sarcasm", "Love paying for a service that doesn't work. {brand} down again in {city}."),
    ("en", "any", "billing", "Third outage this year, {brand}. I'll be asking for a credit on my bill for this one."),
    ("en", "any", "outage", "My whole family is on {brand} and none of us can reach each other. Kids are at school in {city}. Not good."),
    ("en", "any", "outage", "No signal in {city} since {spike_time}. {brand} please just tell us what's happening"),
    ("en", "x", "sarcasm", "Just tried to ring {brand} to report the outage... on my {brand} phone. Realised my mistake."),
    ("en", "x", "outage", "{brand} please give us an ETA. The card machine in my shop runs on your SIM and I can't take payments. {city}."),
    ("en", "any", "cancel", "Leaving {brand} the minute this outage is over. Unacceptable for a business line."),
    ("en", "any", "outage", "Is it just me or is {brand} completely dead in {city} this morning?"),
    ("en", "any", "outage", "Rang my gran from a landline to check she's okay because her {brand} mobile is out. {city}. Please fix this."),
    ("en", "any", "question", "If you're on {brand} and can't call: Wi-Fi calling still works if you switch it on in settings. Saved my morning in {city}."),
    ("en", "any", "outage", "{brand} 4G gone, 5G gone, even the emergency-calls-only bar keeps vanishing. {city}, since {spike_time}."),
    ("en", "x", "outage", "@LuminaHelp still nothing in {city}. It's been {hours} hours. Any update at all?"),
    ("en", "any", "outage", "Missed a hospital appointment call this morning because {brand} was down in {city}. Brilliant."),
    ("en", "post", "outage", "{brand} down across the north?\n\nNo signal in {city} since about {spike_time}. Mates in {city2} say the same. Anyone know what's going on? Nothing on their status page."),
    ("en", "post", "outage", "{brand} outage this morning: is anyone getting any info?\n\nHousehold of four, all on {brand}, all on SOS only since {spike_time}. Their X account has posted one 'we're aware' message. Any idea how long these usually last?"),
    ("th", "any", "outage", "สัญญาณ {brand} ล่มทั้ง{city_th}เลยหรือเปล่า ตั้งแต่เช้าไม่มีเน็ตเลย"),
    ("th", "any", "outage", "{brand} ล่มอีกแล้ว โทรหาแม่ไม่ได้ตั้งแต่เช้า อยู่{city_th}ค่ะ"),
    ("es", "any", "outage", "¿{brand} está caído? Sin cobertura en {ciudad} desde primera hora."),
    ("es", "any", "outage", "Toda la mañana sin señal con {brand} en {ciudad}. ¿Alguna explicación?"),
    ("en", "any", "outage", "Every phone in our house on {brand} lost signal at once, about {spike_time}. {city}."),
    ("en", "x", "outage", "@LuminaHelp is there a mast down near {city}? Nothing since {spike_time}, not even texts."),
    ("en", "any", "outage", "Can't get a single bar on {brand} anywhere in {city} this morning. Train, office, home: nothing."),
    ("en", "any", "outage", "{brand} down for me too in {city}. Restarted, airplane mode, took the SIM out. No luck."),
    ("en", "any", "outage", "Delivery driver here. The {brand} SIM in my work phone is dead so I can't see my route. {city}."),
    ("en", "x", "outage", "Status page still green while half of {city} has no {brand} signal. Who updates that thing?"),
    ("en", "any", "outage", "Is the {brand} outage just the north? My brother in {city2} is fine, I'm in {city} with nothing."),
    ("en", "any", "outage", "No calls, no data, no texts on {brand} since {spike_time}. Working from home in {city} is off today."),
    ("en", "any", "billing", "{hours} hours without {brand} this morning. I expect that off my bill, not a 'sorry for any inconvenience'."),
    ("en", "x", "outage", "@LuminaHelp my elderly dad relies on his {brand} phone for his care alarm. {city}. Please give us an update."),
    ("en", "any", "outage", "School can't reach parents on {brand} numbers this morning, they've sent a letter home instead. {city}."),
    ("en", "any", "cancel", "That's it, after this morning's outage I'm porting away from {brand}. {city} has been patchy for months."),
    ("en", "x", "sarcasm", "Great morning to find out how many things need a phone signal. Thanks {brand}. {city}."),
    ("en", "any", "outage", "{brand} signal keeps flickering to one bar and dropping again in {city}. Anyone know what's happening?"),
    ("en", "post", "outage", "Big {brand} outage in {city} right now?\n\nEveryone in my office on {brand} lost signal around {spike_time}, everyone on other networks is fine. Support chat says 'investigating'. Posting so others know it's not just their phone."),
)  # fmt: skip
SPIKE_RECOVERY = (
    "{brand} signal back in {city} after about {hours} hours. Still no explanation though.",
    "Back online in {city}. {brand}, a credit for this morning would be a nice gesture.",
    "Signal's back on {brand} in {city}. Right, 47 notifications to catch up on.",
    "{brand} working again in {city} 🎉 That was a long morning.",
)

NEWS_ACCOUNTS = (
    ("TelcoWireUK", "TelcoWire", 54_200), ("ParcelTradeNews", "Parcel Trade News", 21_300),
    ("MarketBriefUK", "Market Brief", 132_000), ("RetailPulseUK", "Retail Pulse", 38_900),
    ("NorthDeskNews", "North Desk News", 86_400),
)  # fmt: skip

# --- Scripted posts -----------------------------------------------------------------
# Returning customers (some escalating), reply threads, large accounts and the texts a
# console must render safely. Persona: (platform, handle, display name, followers, lang).
# "when": "dN HH:MM" (N calendar days ago, UTC) or "mN" (N minutes ago).
# "thread": the post replies to our reply on the previous post of the same script.
# "plan": (status, replied, agent) for the staff history; absent = decided at random.

LONG_POST = """Six weeks to move my number to Lumina Mobile: a timeline (long, sorry)

Posting this partly to vent and partly because when I was searching for answers I couldn't find anyone who had written the whole thing down. TL;DR at the bottom.

Week 1, Monday: Ordered a SIM-only plan online (the 50GB one). Asked Voltel for my PAC by text the same evening and got it in under a minute, which was honestly the smoothest part of the whole process. Entered it on the Lumina Mobile website and got an email saying the switch would happen on Thursday.

Week 1, Thursday: Nothing happened. The new SIM had arrived, but it showed a temporary number and my old number was still live on Voltel. Chat said porting "can take up to 24 hours after the scheduled date", so I waited.

Week 1, Friday: Still nothing. Chat agent number two said the PAC had been "rejected by the donor network" because the date of birth didn't match. It matches. I checked it on both accounts. They told me to request a new PAC and submit it again.

Week 2: Requested a new PAC and submitted it through the app, because the website now said my order was "in progress" and wouldn't let me edit it. The app accepted it. Two days later an email arrived cancelling my original order because the PAC had expired. Nobody could tell me whether the new one was attached to anything.

Week 3: Spent an hour and ten minutes on the phone (the hold music is the same eight seconds on a loop; I can now hum it on demand). The agent was lovely and clearly trying, but said the port was stuck in a status their system calls "pending validation" and she couldn't move it. She raised a ticket and promised a call back within 48 hours.

Week 4: No call back. Went into the store in town. Staff said they can't see online orders at all, but they gave me a leaflet with the complaints address. Meanwhile I was paying for two plans, because I didn't dare cancel Voltel and lose the number. I've had it since I was fifteen and it's attached to my bank, my GP, my kids' school, everything.

Week 5: Sent a formal complaint by email. Got an automatic reply with a reference number and a promise of an answer within five working days. On day four someone actually rang me, apologised, and explained that the first failed port had left a "lock" on my number that needed a manual release on their side. She did it while I was on the phone.

Week 6, Tuesday: Number finally moved. Texts arrived on the new SIM at 9:41am. I genuinely cheered in the kitchen.

What I still want sorted:
- Six weeks of double billing (Voltel for the old contract I couldn't leave, Lumina for a plan on a number I never used).
- An explanation of why nobody before the complaints team could see the lock.
- Whether this will happen to my partner, who is due to switch next month.

To be fair to the complaints team, they've offered to credit the first month and are "looking at" the rest. If that comes through I'll update this post.

What I'd tell anyone switching:
1. Screenshot every confirmation, including the PAC text.
2. Don't cancel your old contract until the number has actually moved.
3. If it's stuck for more than a week, skip chat and put a complaint in writing. It was the only thing that got me a human with the right access.

TL;DR: PAC rejected for a reason that wasn't true, port stuck behind a lock nobody could see, six weeks and two bills later it's done. Only the complaints team could fix it.

Edit: u/LuminaMobile_Official has sent me a message, will update when I hear more."""

SCRIPTS = (
    # Returning customer: a double charge that escalates to an ombudsman threat.
    {"brand": "L", "persona": ("x", "priya_bakes", "Priya 🧁", 1240, "en"), "posts": (
        {"when": "d11 09:14", "cat": "billing", "plan": ("waiting", True, "sam"),
         "text": "@LuminaHelp you've taken £38.99 from my account twice this month. Can someone look at this please?"},
        {"when": "d10 08:02", "cat": "billing", "thread": True, "plan": ("resolved", True, "sam"),
         "text": "@LuminaHelp DM'd you yesterday like you asked, no reply yet. Account ending 4471."},
        {"when": "d6 19:40", "cat": "billing", "plan": ("waiting", True, "alex"),
         "reply": "Sorry Priya, that's far too long. I've chased billing again and asked for an update today. ^{agent}",
         "text": "Still no refund from @LuminaMobile for the double charge. Chat says it's 'escalated'. That was 5 days ago."},
        {"when": "d2 12:05", "cat": "legal", "plan": ("open", False, "sam"),
         "note": "Third contact about the same £38.99 double charge. Billing approved the refund two days ago: check it has landed "
                 "before replying. She mentions the ombudsman, so the complaints team is copied (case CX-204471).",
         "text": "@LuminaMobile third time asking about the double charge. If it's not back by Friday I'm going to the ombudsman. Not a threat, just tired."},
    )},
    # Returning customer: parcel marked delivered, claim refused, trading standards.
    {"brand": "P", "persona": ("x", "deano_b", "Dean Whitlock", 640, "en"), "posts": (
        {"when": "d6 14:31", "cat": "delivery", "plan": ("waiting", True, "alex"),
         "text": "@ParceloCares parcel PX2048813307 marked delivered at 2:14pm. I was home all afternoon. Nothing here."},
        {"when": "d5 09:12", "cat": "delivery", "thread": True, "plan": ("waiting", True, "alex"),
         "text": "@ParceloCares neighbours on both sides don't have it and the photo is of a different door. What now?"},
        {"when": "d3 17:45", "cat": "legal", "plan": ("open", False, "alex"),
         "text": "Parcelo rejected my claim for PX2048813307 because the driver 'confirmed delivery'. Reporting it to trading standards. @ParceloHQ"},
        {"when": "d1 11:20", "cat": "delivery", "plan": ("open", False, "alex"),
         "text": "@ParceloCares now the seller says they were told it went to a locker in Hull. I live in Leeds. You couldn't make it up."},
    )},
    # Returning customer: locked out, then thanks an agent by name (shows on the "thank them" page).
    {"brand": "L", "persona": ("x", "kezwrites", "Kerry Ashdown", 3400, "en"), "posts": (
        {"when": "d4 08:50", "cat": "account", "plan": ("waiting", True, "alex"),
         "text": "@LuminaHelp locked out of my account and the 2FA codes aren't arriving. Can you help?"},
        {"when": "d4 11:35", "cat": "account", "thread": True, "plan": ("waiting", True, "alex"),
         "text": "@LuminaHelp ah, I see: the codes go to my Lumina number. Which is the SIM that stopped working. Clever."},
        {"when": "d3 10:02", "cat": "account", "plan": ("resolved", True, "alex"),
         "reply": "Sorry Kerry. I've sent you a DM: we can verify you with a few security questions instead. ^{agent}",
         "text": "Can't get into my Lumina Mobile account, and I can't get a new SIM without getting into my account. Day 2 of this loop."},
        {"when": "d1 16:48", "cat": "praise", "plan": ("new", False, None),
         "text": "Finally sorted! Alex at @LuminaHelp verified me another way and a new SIM is on its way. Thank you 🙌"},
    )},
    # Returning customer in Thai: a roaming charge on holiday.
    {"brand": "L", "persona": ("x", "ploy_nattaya", "พลอย 🌸", 2100, "th"), "posts": (
        {"when": "d9 13:22", "cat": "billing", "plan": ("waiting", True, "sam"),
         "text": "@LuminaMobile โดนเก็บค่าโรมมิ่ง £48 ตอนไปเที่ยวกรุงเทพ ทั้งที่ซื้อแพ็กเกจไว้แล้ว ช่วยตรวจสอบด้วยค่ะ"},
        {"when": "d8 09:05", "cat": "billing", "thread": True, "plan": ("waiting", True, "sam"),
         "text": "@LuminaHelp ส่ง DM ไปแล้วนะคะ ยังไม่มีใครตอบเลย"},
        {"when": "d4 20:15", "cat": "billing", "plan": ("open", False, "sam"),
         "text": "ผ่านมาเกือบอาทิตย์แล้ว Lumina Mobile ยังไม่คืนเงินค่าโรมมิ่งให้เลย ผิดหวังมากค่ะ"},
    )},
    # Returning customer in Spanish: a late birthday present.
    {"brand": "P", "persona": ("x", "martagilr", "Marta Gil", 910, "es"), "posts": (
        {"when": "d8 10:40", "cat": "delivery", "plan": ("waiting", True, "alex"),
         "text": "@ParceloCares mi paquete PX3310927745 lleva 4 días 'en reparto'. ¿Sabéis algo?"},
        {"when": "d6 18:03", "cat": "delivery", "plan": ("resolved", True, "alex"),
         "text": "Parcelo sigue sin entregar mi paquete y nadie me responde. Es un regalo de cumpleaños 😞"},
        {"when": "d5 12:30", "cat": "praise", "plan": ("new", False, None),
         "text": "Por fin ha llegado el paquete de Parcelo. Tarde, pero gracias a la chica de atención al cliente 💐"},
    )},
    # Returning customer who leaves for the competitor.
    {"brand": "L", "persona": ("x", "tombrennan_", "Tom Brennan", 430, "en"), "posts": (
        {"when": "d12 21:10", "cat": "outage", "plan": ("resolved", True, "sam"),
         "text": "Signal on Lumina Mobile at my flat in Sheffield is gone again. Third week running."},
        {"when": "d7 18:55", "cat": "cancel", "plan": ("resolved", True, "alex"),
         "reply": "Sorry to hear that, Tom. Text PAC to 65075 and it arrives within a minute, free. If you'd let us "
                  "check the signal at your flat first, DM us your postcode. ^{agent}",
         "text": "How do I get my PAC code from @LuminaMobile? Done."},
        {"when": "d2 09:30", "cat": "cancel",
         "text": "Moved to Voltel. Full bars in the same flat. Sorry Lumina Mobile, you had years to fix it."},
    )},
    # Reply threads: the customer answers our reply.
    {"brand": "L", "persona": ("x", "benjiroberts", "Benji Roberts", 288, "en"), "posts": (
        {"when": "d5 07:48", "cat": "outage", "plan": ("waiting", True, "sam"),
         "text": "@LuminaHelp no data since this morning in Bristol, calls are fine. Pixel 8."},
        {"when": "d5 10:15", "cat": "outage", "thread": True,
         "text": "@LuminaHelp restarted twice and reset network settings like you said. Still nothing."},
    )},
    {"brand": "P", "persona": ("x", "sallyinstitches", "Sally Okafor-Lane", 1870, "en"), "posts": (
        {"when": "d2 15:20", "cat": "delivery", "plan": ("waiting", True, "alex"),
         "text": "@ParceloCares where is parcel PX5529104418? It's said 'at local depot' since Monday."},
        {"when": "d1 09:02", "cat": "delivery", "thread": True,
         "text": "@ParceloCares thanks, but that's exactly what you said yesterday too."},
    )},
    {"brand": "P", "persona": ("x", "gregtheplumber", "Greg | GT Plumbing", 2950, "en"), "posts": (
        {"when": "d7 13:05", "cat": "damage", "plan": ("waiting", True, "sam"),
         "text": "@ParceloCares your driver left my parcel in the recycling bin 🙃 Box is crushed."},
        {"when": "d7 14:10", "cat": "damage", "thread": True, "plan": ("resolved", True, "sam"),
         "text": "@ParceloCares done, photo sent by DM. Thanks for the quick reply."},
    )},
    {"brand": "L", "persona": ("reddit", "Soggy_Kettle_5521", "Soggy_Kettle_5521", 0, "en"), "posts": (
        {"when": "d6 20:30", "cat": "billing", "sub": "LuminaMobile", "plan": ("waiting", True, "alex"),
         "text": "Lumina Mobile charged me for 14GB of data I didn't use\n\nMy phone says I used 6GB this month, the bill says 20GB and I've been charged £12 for going over. Phone was on Wi-Fi at home most of the month. Has anyone managed to get one of these overturned?"},
        {"when": "d5 08:40", "cat": "billing", "thread": True,
         "text": "Thanks, I've sent a PM with my account number. Will update the thread when it's sorted."},
    )},
    {"brand": "L", "persona": ("x", "dnl_rmr", "Daniel Romero", 510, "es"), "posts": (
        {"when": "d3 18:22", "cat": "q_esim", "plan": ("waiting", True, "alex"),
         "text": "@LuminaHelp ¿cómo activo la eSIM en el Galaxy S24? En la tienda me dijeron que se hacía desde la app."},
        {"when": "d3 19:30", "cat": "praise", "thread": True, "plan": ("new", False, None),
         "text": "@LuminaHelp ¡Funcionó! Gracias por la rapidez 🙌"},
    )},
    # Large accounts.
    {"brand": "L", "persona": ("x", "hannahreidtech", "Hannah Reid", 412_000, "en"), "tags": ("vip",), "posts": (
        {"when": "d8 11:10", "cat": "billing", "plan": ("resolved", True, "sam"),
         "reply": "Thanks Hannah, I've passed this to our press team, who'll come back to you directly today. ^{agent}",
         "note": "Tech journalist. Press office (Dana) is handling the 480p question; only confirm we've passed it on.",
         "text": "Interesting: @LuminaMobile's 'unlimited' plan drops video to 480p after 100GB and that isn't on the plan page anywhere. Asked their press office for comment."},
    )},
    {"brand": "L", "persona": ("x", "marcusbellamytv", "Marcus Bellamy", 1_640_000, "en"), "tags": ("vip",), "posts": (
        {"when": f"d{SPIKE_DAYS_AGO} 07:12", "cat": "outage", "spike": True,
         "text": "No signal on Lumina Mobile all morning in Leeds. Had to borrow the producer's phone to find the studio. Sort it out @LuminaMobile 🙄"},
    )},
    {"brand": "P", "persona": ("x", "jo_onmoney", "Jo Okafor", 183_000, "en"), "tags": ("vip",), "posts": (
        {"when": "m18", "cat": "delivery", "plan": ("new", False, None),
         "text": "My inbox is full of readers saying Parcelo marked parcels 'delivered' that never arrived. @ParceloHQ what's going on? Writing this up for Sunday's column."},
    )},
    {"brand": "L", "persona": ("x", "gadgetgareth", "Gareth Pryce", 920_000, "en"), "tags": ("vip",), "posts": (
        {"when": "d5 17:00", "cat": "praise", "plan": ("resolved", True, "alex"),
         "text": "Tested eSIM activation on every UK network for a video. @LuminaMobile took 4 minutes. Voltel took 3 days. Full results Friday 📱"},
    )},
    {"brand": "L", "persona": ("x", "valeriaviaja", "Valeria Ruiz ✈️", 251_000, "es"), "tags": ("vip",), "posts": (
        {"when": "d1 13:45", "cat": "billing", "plan": ("open", False, "sam"),
         "text": "@LuminaMobile me habéis cobrado £62 de roaming en Lisboa con una tarifa que lo incluye. A ver si lo arregláis antes de que grabe un vídeo 😅"},
    )},
    {"brand": "L", "persona": ("x", "NorthDeskNews", "North Desk News", 86_400, "en"), "posts": (
        {"when": f"d{SPIKE_DAYS_AGO} 08:05", "cat": "news", "spike": True,
         "text": "Lumina Mobile confirms a network fault affecting customers across parts of northern England. Engineers are working to restore service. #LuminaMobile"},
    )},
    # Recent and urgent, for a live-looking inbox.
    {"brand": "P", "persona": ("x", "rachelmoss_", "Rachel Moss", 760, "en"), "posts": (
        {"when": "m42", "cat": "safety", "plan": ("new", False, None),
         "text": "@ParceloCares one of your vans just mounted the kerb outside Hillside Primary in Derby at pick-up time. Kids everywhere. Reg ends KFT."},
    )},
    {"brand": "L", "persona": ("x", "omar_codes", "Omar Haddad", 5200, "en"), "posts": (
        {"when": "m75", "cat": "privacy", "tags": ("security",), "plan": ("open", False, "alex"),
         "note": "Possible SIM swap. Do not discuss account details in public; fraud team runbook applies.",
         "text": "@LuminaHelp my phone just lost signal and I got an email saying my SIM was 'successfully replaced'. I didn't ask for that. Please lock my account NOW."},
    )},
    # Texts a console must render safely.
    {"brand": "L", "persona": ("x", "qa_tess", "Tess 🐛", 890, "en"), "posts": (
        {"when": "d2 16:20", "cat": "privacy", "plan": ("resolved", True, "sam"),
         "reply": "Thank you for reporting this. I've passed it straight to our web team to investigate. ^{agent}",
         "note": "Passed to the web team as a possible XSS on the contact form (ticket WEB-1182).",
         "text": "@LuminaHelp your contact form just echoed my message back as <script>alert(1)</script> and rendered an <img src=x onerror=alert(1)> too. Might want someone to look at that 😬"},
    )},
    {"brand": "L", "persona": ("x", "khalid_mcr", "خالد", 1320, "ar"), "posts": (
        {"when": "d1 07:55", "cat": "outage",
         "text": "@LuminaHelp لا توجد إشارة في مانشستر منذ الصباح الباكر. هل هناك عطل في شبكة Lumina Mobile؟ أحتاج الهاتف للعمل."},
    )},
    {"brand": "P", "persona": ("x", "leahbakes_", "Leah 👩‍🍳", 2240, "en"), "posts": (
        {"when": "d4 15:30", "cat": "damage", "plan": ("resolved", True, "alex"),
         "text": "@ParceloCares 📦➡️🌧️➡️😭 my parcel sat outside in the rain for 3 hours 👎🏽👎🏽 cake tins rusting already 🙃 #Parcelo 🇬🇧🧑‍🍳"},
    )},
    {"brand": "P", "persona": ("x", "ianfixesit", "Ian Carver", 330, "en"), "posts": (
        {"when": "d3 12:10", "cat": "q_tracking",
         "text": "Parcelo, the tracking link you texted me doesn't even open: https://track.parcelo.example/t/?ref=PX88219034&session=a8f3c9e1b27d4f60a9c3e7b1d2f4a6c8e0b9d7f5a3c1e2b4d6f8a0c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a5c7e9b2d4f6a8c0e1b3d5f7a9c2e4b6d8&utm_source=sms"},
    )},
    {"brand": "L", "persona": ("reddit", "Rusty_Badger_1187", "Rusty_Badger_1187", 0, "en"), "posts": (
        {"when": "d9 21:05", "cat": "legal", "sub": "LuminaMobile", "plan": ("waiting", True, "sam"),
         "reply": "We're really sorry it took six weeks. Our complaints team has your case, and I've asked them to "
                  "look at the double billing too. I'll message you with an update. ^{agent}",
         "note": "Long porting complaint. Complaints team already has it (CX-198302); they offered one month's credit.",
         "text": LONG_POST},
    )},
    # Scam warning with a big audience.
    {"brand": "P", "persona": ("x", "ScamWatchBen", "Ben | Scam Watch", 64_000, "en"), "posts": (
        {"when": "d6 10:20", "cat": "scam", "plan": ("resolved", True, "sam"),
         "note": "Shared with security; takedown requested for the lookalike domain.",
         "text": "⚠️ New fake Parcelo text going round tonight: 'Your parcel is on hold, pay £1.99 at parcelo-hold[.]top'. Parcelo don't charge redelivery by SMS. Report to 7726. @ParceloHQ"},
    )},
)  # fmt: skip

# --- Staff replies ------------------------------------------------------------------

REPLIES = {
    "outage": ("Sorry about this. Engineers are working on a fault in your area. Wi-Fi calling still works if you "
               "turn it on in Settings, and we'll update you as soon as it's fixed. ^{agent}",
               "Really sorry. Please DM us your postcode and we'll check the network and any planned work where you "
               "are. ^{agent}"),
    "outage_spike": ("Really sorry: a fault at one of our sites took out service across parts of the north this "
                     "morning. It's fixed now; if you still have no signal, restart your phone and DM us. ^{agent}",
                     "Sorry for the disruption this morning. Service is back everywhere now. If you lost out because "
                     "of it, DM us and we'll look at a credit. ^{agent}"),
    "billing": ("Sorry about this, that shouldn't happen. Please DM us your account number and the date of the "
                "charge and we'll get it checked today. ^{agent}",
                "That doesn't look right. Send us a DM with the details and we'll take a look and put it right. "
                "^{agent}"),
    "delivery": ("Sorry your parcel hasn't turned up. Please DM us the tracking number and we'll open a trace with "
                 "the depot straight away. ^{agent}",
                 "That's not the delivery we want for you. DM us the tracking number and your postcode and we'll "
                 "chase the driver today. ^{agent}"),
    "damage": ("Sorry, that's not how parcels should be left. DM us the tracking number and a photo and we'll "
               "raise a claim for you. ^{agent}",),
    "account": ("Let's get you back in. Please DM us and we'll verify you another way, no codes needed. ^{agent}",),
    "cancel": ("Sorry to hear this. Before you decide, DM us: we'd like to look at the coverage where you are and "
               "see what we can do. ^{agent}",),
    "legal": ("We're sorry it has come to this. I've passed your case to our complaints team, who will contact you "
              "within two working days. ^{agent}",),
    "privacy": ("Thanks for flagging this. Please don't post personal details here; DM us and our security team "
                "will look into it urgently. ^{agent}",),
    "scam": ("Thanks for the warning. We never ask for payment by text. Please forward scam messages to 7726 and "
             "delete them. ^{agent}",),
    "safety": ("Thank you for telling us. We've passed this to the manager responsible and they're looking into it "
               "today. ^{agent}",),
    "q_hours": ("Hi! Opening times for every location are on our store finder, and most are open 10 till 4 on "
                "Sundays. ^{agent}",),
    "q_esim": ("Good question: yes, it's supported. In the app go to Account > SIM > Switch to eSIM and it takes a "
               "few minutes. ^{agent}",),
    "q_tracking": ("You can track or redirect it from the link in your delivery text, or DM us the sender's name "
                   "and your postcode and we'll find it. ^{agent}",),
    "question": ("Thanks for asking! I've sent you a DM with the details. ^{agent}",),
    "praise": ("Thank you, that's made our day! I'll pass this on to the team. ^{agent}",
               "Love to hear it. Thanks for taking the time to tell us 😊 ^{agent}"),
    "sarcasm": ("Sorry we've let you down. DM us your details and we'll look into it properly. ^{agent}",),
    "th": ("ขออภัยในความไม่สะดวกค่ะ รบกวนส่ง DM พร้อมหมายเลขบัญชีหรือเลขพัสดุ ทีมงานจะตรวจสอบให้ทันทีค่ะ ^{agent}",),
    "th_praise": ("ขอบคุณมากค่ะ 🙏 จะส่งต่อคำชมให้ทีมงานนะคะ ^{agent}",),
    "es": ("Sentimos las molestias. Escríbenos por mensaje privado con tu número de cliente o de seguimiento y lo "
           "revisamos hoy mismo. ^{agent}",),
    "es_praise": ("¡Muchas gracias! Se lo haremos llegar al equipo 😊 ^{agent}",),
}  # fmt: skip
TAG_FOR = {
    "outage": "outage", "billing": "billing", "delivery": "delivery", "damage": "delivery", "account": "account",
    "cancel": "churn-risk", "legal": "legal", "privacy": "privacy", "scam": "scam", "safety": "safety",
    "q_hours": "question", "q_esim": "question", "q_tracking": "question", "question": "question",
    "praise": "praise", "spam": "spam", "competitor": "competitor",
}  # fmt: skip
ALWAYS_TAGGED = {"legal", "privacy", "scam", "safety"}

EN_FIRST = ("Amy", "Ben", "Chloe", "Dan", "Ellie", "Femi", "Grace", "Harry", "Isla", "Jack", "Kemi", "Liam",
            "Megan", "Nathan", "Olivia", "Rhys", "Sophie", "Tom", "Usman", "Vicky", "Will", "Zara", "Aidan",
            "Bethan", "Callum", "Dev", "Erin", "Fraser", "Gemma", "Hamza", "Imogen", "Jas", "Kieran", "Lauren",
            "Mo", "Niamh", "Owen", "Rosie", "Sian", "Tariq", "Yusuf", "Hollie", "Craig", "Leanne", "Gav", "Anita")  # fmt: skip
EN_LAST = ("Walsh", "Patel", "Hughes", "Khan", "Murphy", "Evans", "Okoye", "Taylor", "Singh", "Campbell", "Price",
           "Doyle", "Ahmed", "Clarke", "Byrne", "Lloyd", "Nowak", "Hussain", "Fletcher", "Barker", "Mensah",
           "Grant", "Hart", "Quinn", "Shah", "Kowalski", "Begum", "Mills")  # fmt: skip
HANDLE_WORDS = ("Reads", "Runs", "Bakes", "Codes", "Draws", "Lifts", "Sings", "Cooks", "Writes", "Fixes", "Knits")
REDDIT_ADJ = ("Sad", "Quiet", "Brave", "Rusty", "Soggy", "Electric", "Cosmic", "Grumpy", "Lazy", "Tidy", "Spicy",
              "Damp", "Wobbly", "Curious")  # fmt: skip
REDDIT_NOUN = ("Toast", "Badger", "Kettle", "Pigeon", "Teapot", "Otter", "Biscuit", "Umbrella", "Hedgehog",
               "Scone", "Crumpet", "Puffin")  # fmt: skip
TH_NAMES = (("Nattapong", "ณัฐพงศ์"), ("Siriporn", "ศิริพร"), ("Kanya", "กัญญา"), ("Thanawat", "ธนวัฒน์"),
            ("Pimchanok", "พิมพ์ชนก"), ("Arisa", "อริสา"), ("Kittipat", "กิตติพัฒน์"), ("Nok", "นก"),
            ("Ton", "ต้น"), ("Mint", "มิ้นท์"), ("Bank", "แบงค์"), ("Fah", "ฟ้า"))  # fmt: skip
ES_FIRST = ("Lucía", "Javier", "Carmen", "Diego", "Marta", "Alejandro", "Sofía", "Pablo", "Elena", "Andrés",
            "Irene", "Raúl", "Noelia", "Sergio", "Paula", "Óscar")  # fmt: skip
ES_LAST = ("García", "Martín", "López", "Sánchez", "Romero", "Navarro", "Torres", "Molina", "Ortega", "Castro",
           "Iglesias", "Vidal")  # fmt: skip
SPAM_HANDLES = ("crypto_king_8812", "f4f_growth_22", "deals_daily_uk7", "moonshot_sig", "freebies4u_ok",
                "promo_codes_hq2", "earn_fast_now1")  # fmt: skip
REDDIT_SUBS = {
    "L": ("LuminaMobile", "uknetworks", "AskUK", "UKPersonalFinance"),
    "P": ("Parcelo", "CasualUK", "AskUK", "smallbusinessuk"),
    "V": ("uknetworks", "Voltel", "AskUK"),
}
POST_SUBS = {"legal": "LegalAdviceUK", "billing": "UKPersonalFinance", "scam": "Scams", "safety": "AskUK"}
THREAD_SLUGS = {
    "L": ("network_recommendations_megathread", "switching_networks_advice", "is_sim_only_worth_it",
          "what_small_thing_annoyed_you_today", "best_network_for_rural_areas", "weekly_moan_thread"),
    "P": ("which_courier_is_least_bad", "weekly_moan_thread", "anyone_else_had_delivery_problems_this_week",
          "what_small_thing_annoyed_you_today", "couriers_that_actually_knock"),
    "V": ("network_recommendations_megathread", "switching_networks_advice", "is_sim_only_worth_it",
          "best_network_for_rural_areas"),
}  # fmt: skip


@dataclass
class Item:
    """One demo mention record plus what the staff history needs to know about it."""

    record: dict
    brand: str
    cat: str
    lang: str
    spike: bool = False
    plan: tuple | None = None
    tags: tuple = ()
    note: str | None = None
    reply_id: str | None = None  # set when a later post in the script replies to our reply
    reply_text: str | None = None  # a scripted reply ("{agent}" is the agent's name)
    reply_before: datetime | None = None


# --- Records ----------------------------------------------------------------------


def demo_records(now: datetime, seed: int = 7) -> list[dict]:
    """At least 320 mention records in the import format, timed over the 14 days before `now`."""
    return [item.record for item in build(now, seed)]


def build(now: datetime, seed: int = 7) -> list[Item]:
    """Every demo mention with its history hints, oldest first."""
    return _Builder(_utc(now), seed).run()


def _utc(now: datetime | None) -> datetime:
    """`now` as an aware UTC datetime to the second (naive means UTC; None means the current time)."""
    now = now or clock.now()
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return now.replace(microsecond=0)




def _digest(seed: int, key: str) -> int:
    """A stable large integer for (seed, key)."""
    return int.from_bytes(hashlib.sha256(f"earshot-demo:{seed}:{key}".encode()).digest()[:12], "big")


def _base36(number: int, width: int) -> str:
    """`number` in lowercase base 36, `width` characters."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    for _ in range(width):
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out


def _x_id(seed: int, key: str) -> str:
    """A 19-digit X post id."""
    return str(1_780_000_000_000_000_000 + _digest(seed, key) % 190_000_000_000_000_000)


def _reddit_id(seed: int, key: str, kind: str) -> str:
    """A Reddit fullname: t3_ (submission, starts with 1) or t1_ (comment, starts with l or m)."""
    head = "1" if kind == "t3" else "lm"[_digest(seed, key + "/h") % 2]
    return f"{kind}_{head}{_base36(_digest(seed, key), 6)}"


def _slug(title: str) -> str:
    """A Reddit-style URL slug from a title."""
    words = re.findall(r"[a-z0-9]+", _ascii(title).lower())
    slug = "_".join(words)[:50].rstrip("_")
    return slug or "post"


def _ascii(text: str) -> str:
    """Accents stripped, for handles."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _money(rng: random.Random, low: int, high: int) -> str:
    """A price in pounds, like £34.99."""
    return f"£{rng.randint(low, high)}.{rng.choice(('00', '49', '50', '99', '20', '75'))}"


def _slots(rng: random.Random) -> dict:
    """Random values for every template slot."""
    return {
        "city": rng.choice(CITIES), "city2": rng.choice(NORTH_CITIES), "city_th": rng.choice(CITIES_TH),
        "ciudad": rng.choice(CIUDADES), "time": rng.choice(TIMES), "time_es": rng.choice(TIMES_ES),
        "spike_time": rng.choice(SPIKE_TIMES), "clock": f"{rng.randint(8, 19)}:{rng.randint(0, 59):02d}",
        "amount": _money(rng, 12, 65), "amount2": _money(rng, 4, 29), "amount_hi": _money(rng, 70, 160),
        "fee": _money(rng, 18, 120), "small_fee": f"£{rng.randint(1, 3)}.{rng.choice(('45', '99', '20', '49'))}",
        "order": f"PX{rng.randint(10**9, 10**10 - 1)}", "ref": f"CX-{rng.randint(100000, 999999)}",
        "code": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(4)) + str(rng.randint(10, 99)),
        "reg": "".join(rng.choice("ABCDEFGHJKLMNPRSTVWXY") for _ in range(3)), "n": rng.randint(3, 9),
        "days": rng.randint(2, 9), "weeks": rng.randint(6, 10), "hours": rng.randint(3, 5), "mins": rng.randint(25, 95),
        "years": rng.randint(3, 12), "months": rng.randint(2, 8), "year": rng.randint(2017, 2023),
        "speed": rng.randint(120, 480), "pct": rng.choice(("4", "5.5", "6", "7.9", "8.8", "9")),
        "street": rng.choice(STREETS), "weekday": rng.choice(WEEKDAYS), "weekday_es": rng.choice(WEEKDAYS_ES),
        "country": rng.choice(COUNTRIES), "country_es": rng.choice(COUNTRIES_ES), "phone": rng.choice(PHONES),
        "plan": rng.choice(PLANS), "item": rng.choice(ITEMS), "item_th": rng.choice(ITEMS_TH),
        "item_es": rng.choice(ITEMS_ES),
    }  # fmt: skip


def _weighted(rng: random.Random, options: tuple) -> str:
    """Pick the first element of one (value, weight) pair."""
    return rng.choices([o[0] for o in options], weights=[o[1] for o in options])[0]


def addresses(text: str, brand: str, platform: str) -> bool:
    """Whether the text @mentions (X) or u/-mentions (Reddit) the brand's own account."""
    handles = BRANDS[brand][platform]
    if not handles:
        return False
    prefix = r"(?:/?u/)" if platform == "reddit" else "@"
    pattern = prefix + r"(?:" + "|".join(re.escape(h) for h in handles) + r")\b"
    return re.search(pattern, text, re.IGNORECASE) is not None


class _Builder:
    """Builds the demo mentions; content and ids depend on the seed only, times on `now` too."""

    def __init__(self, now: datetime, seed: int):
        """Start with empty output and seeded random streams."""
        self.now, self.seed = now, seed
        self.rng = random.Random(seed)  # content
        self.trng = random.Random(seed * 7919 + 17)  # times: draws never depend on `now`
        self.items: list[Item] = []
        self.seen: set[str] = set()
        self.count = 0
        self.decks: dict[tuple, list] = {}
        self.langs: list[str] = []
        self.by_key: dict[tuple, list] = {}
        for brand, lang, kind, cat, text in TEMPLATES:
            self.by_key.setdefault((brand, lang, kind), []).append((cat, text))
        self.today = datetime(now.year, now.month, now.day, tzinfo=UTC)
        self.pools = {key: self._pool(*key) for key in (("x", "en"), ("reddit", "en"), ("x", "th"),
                                                        ("reddit", "th"), ("x", "es"), ("reddit", "es"))}  # fmt: skip

    def run(self) -> list[Item]:
        """Base traffic for 14 days, the outage spike, then the scripted posts."""
        for days_ago in range(DAYS - 1, -1, -1):
            for brand, (low, high) in DAILY.items():
                for _ in range(self.rng.randint(low, high)):
                    self._base(brand, days_ago)
        self._spike()
        for script in SCRIPTS:
            self._script(script)
        self.items.sort(key=lambda item: (item.record["created_at"], item.record["id"]))
        return self.items

    # Times

    def _base_time(self, days_ago: int) -> datetime:
        """A time on that calendar day, busier in the evening; a time still to come is moved DAYS days back."""
        u_hour, u_minute = self.trng.random(), self.trng.random()
        hour = self._hour(u_hour)
        moment = self.today - timedelta(days=days_ago) + timedelta(hours=hour, seconds=int(u_minute * 3599))
        if moment > self.now - timedelta(minutes=2):
            # Today's hours still to come happen on the fortnight's first day instead, at the
            # same time of day, so the last DAYS x 24 hours keep every hour's usual share
            # (squeezing them in before now would fake a spike just after midnight).
            moment = max(moment - timedelta(days=DAYS), self.now - timedelta(days=DAYS))
        return moment.replace(microsecond=0)

    @staticmethod
    def _hour(u: float) -> int:
        """An hour of the day drawn by HOUR_WEIGHTS from a uniform number."""
        target, total = u * sum(HOUR_WEIGHTS), 0.0
        for hour, weight in enumerate(HOUR_WEIGHTS):
            total += weight
            if target < total:
                return hour
        return 23

    def _when(self, spec: str) -> datetime:
        """A scripted time: 'dN HH:MM' or 'mN' (minutes ago)."""
        if spec.startswith("m"):
            return self.now - timedelta(minutes=int(spec[1:]))
        day, clock = spec[1:].split()
        hours, minutes = (int(p) for p in clock.split(":"))
        moment = self.today - timedelta(days=int(day)) + timedelta(hours=hours, minutes=minutes)
        return min(moment, self.now - timedelta(minutes=5))

    # People

    def _pool(self, platform: str, lang: str) -> list[tuple]:
        """Invented authors: (handle, display name, author id, followers)."""
        size = {"en": 260, "th": 30, "es": 30}[lang]
        return [self._persona(platform, lang, i) for i in range(size)]

    def _persona(self, platform: str, lang: str, index: int) -> tuple:
        """One invented author for a platform and language."""
        rng = self.rng
        if lang == "th":
            latin, thai = rng.choice(TH_NAMES)
            first, display = latin, rng.choice((thai, latin, f"{thai} ✨"))
        elif lang == "es":
            first, last = rng.choice(ES_FIRST), rng.choice(ES_LAST)
            display = rng.choice((f"{first} {last}", first, f"{first} {last[0]}."))
            first = _ascii(first) + _ascii(last)[:3]
        else:
            first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
            display = rng.choice((f"{first} {last}", first, f"{first} {last[0]}", f"{first} {last} 🌻"))
        if platform == "reddit":
            handle = rng.choice((
                f"{rng.choice(REDDIT_ADJ)}_{rng.choice(REDDIT_NOUN)}_{rng.randint(1000, 9999)}",
                f"{first.lower()}_{rng.choice(HANDLE_WORDS).lower()}{rng.randint(10, 99)}",
                f"throwaway{rng.randint(1000, 99999)}",
            ))
            author_id = f"t2_{_base36(_digest(self.seed, f'author/{platform}/{lang}/{index}'), 8)}"
            followers = min(int(math.exp(rng.gauss(2.0, 1.4))), 3000)
            return handle, handle, author_id, followers
        base = _ascii(first) if lang != "en" else first + rng.choice((last, "_" + last, last[0], ""))
        handle = rng.choice((
            f"{base}{rng.randint(1, 99)}", f"{base}_{rng.choice(HANDLE_WORDS)}", base.lower(),
            f"{base.lower()}{rng.randint(1980, 2005)}",
        ))[:15]
        author_id = str(10**7 + _digest(self.seed, f"author/{platform}/{lang}/{index}") % (10**18))
        followers = max(2, min(int(math.exp(rng.gauss(5.6, 1.5))), 45_000))
        return handle, display, author_id, followers

    # Content

    def _draw_lang(self) -> str:
        """The next language from a shuffled deck, so the shares hold exactly."""
        if not self.langs:
            self.langs = list(LANG_DECK)
            self.rng.shuffle(self.langs)
        return self.langs.pop()

    def _draw(self, key: tuple) -> tuple[str, str]:
        """The next (category, template) from a shuffled deck, so templates rotate evenly."""
        deck = self.decks.get(key)
        if not deck:
            deck = list(self.by_key[key])
            self.rng.shuffle(deck)
            self.decks[key] = deck
        return deck.pop()

    def _fill(self, template: str, brand: str, platform: str, extra: dict | None = None) -> str:
        """Fill a template's slots (`extra` maps a slot to its own choices), redrawing until the text is new."""
        text = ""
        for _ in range(40):
            slots = _slots(self.rng) | {"brand": _weighted(self.rng, BRAND_FORMS[(brand, platform)])}
            slots |= {name: self.rng.choice(choices) for name, choices in (extra or {}).items()}
            text = template.format_map(slots)
            if text not in self.seen:
                break
        self.seen.add(text)
        return text

    def _base(self, brand: str, days_ago: int) -> None:
        """One ordinary mention on that day."""
        rng = self.rng
        lang = self._draw_lang()
        platform = "x" if rng.random() < X_SHARE[lang] else "reddit"
        kind = "any"
        if platform == "x" and lang == "en" and rng.random() < (0.1 if brand == "V" else 0.18):
            kind = "x"
        elif platform == "reddit" and lang == "en" and rng.random() < 0.35:
            kind = "post"
        cat, template = self._draw((brand, lang, kind))
        text = self._fill(template, brand, platform)
        if platform == "x" and BRANDS[brand]["x"][1:] and cat not in ("news", "spam") and rng.random() < 0.28:
            if not addresses(text, brand, "x"):
                text = f"@{BRANDS[brand]['x'][-1]} {text}"
        if platform == "reddit" and kind == "post" and BRANDS[brand]["reddit"] and rng.random() < 0.12:
            text += f"\n\nTagging u/{BRANDS[brand]['reddit'][0]} in case anyone there reads this."
        persona = self._author(platform, lang, cat)
        self._add(brand, platform, lang, cat, text, persona, self._base_time(days_ago), kind)

    def _author(self, platform: str, lang: str, cat: str) -> tuple:
        """A persona for an ordinary mention (news accounts for news, spam accounts for spam)."""
        if cat == "news" and platform == "x":
            handle, name, followers = self.rng.choice(NEWS_ACCOUNTS)
            return handle, name, str(10**8 + _digest(self.seed, "news/" + handle) % 10**12), followers
        if cat == "spam" and platform == "x":
            handle = self.rng.choice(SPAM_HANDLES)
            name = handle.replace("_", " ").title()
            return handle, name, str(10**17 + _digest(self.seed, "spam/" + handle) % 10**18), self.rng.randint(3, 900)
        return self.rng.choice(self.pools[(platform, lang)])

    def _spike(self) -> None:
        """The Lumina Mobile outage: SPIKE_EXTRA mentions from 06:00, busiest in the first hour, over by
        09:00, then recoveries."""
        start = self.today - timedelta(days=SPIKE_DAYS_AGO) + timedelta(hours=6)
        templates = list(SPIKE_TEMPLATES)
        for i in range(SPIKE_EXTRA):
            if i % len(templates) == 0:
                self.rng.shuffle(templates)
            lang, kind, cat, template = templates[i % len(templates)]
            platform = "reddit" if kind == "post" else ("x" if kind == "x" or self.rng.random() < SPIKE_X_SHARE else "reddit")
            text = self._fill(template, "L", platform, {"city": NORTH_CITIES})
            if platform == "x" and not addresses(text, "L", "x") and self.rng.random() < 0.4:
                text = f"@LuminaHelp {text}"
            moment = start + timedelta(minutes=int(4 + 170 * self.trng.random() ** 2), seconds=self.trng.randint(0, 59))
            persona = self.rng.choice(self.pools[(platform, lang)])
            self._add("L", platform, lang, cat, text, persona, moment, kind, spike=True)
        for i, template in enumerate(SPIKE_RECOVERY):
            text = self._fill(template, "L", "x", {"city": NORTH_CITIES})
            moment = start + timedelta(hours=3, minutes=20 + 25 * i + self.trng.randint(0, 20))
            self._add("L", "x", "en", "outage", text, self.rng.choice(self.pools[("x", "en")]), moment, "x", spike=True)

    def _script(self, script: dict) -> None:
        """One scripted author's posts, in order, threading replies to our replies."""
        platform, handle, name, followers, lang = script["persona"]
        if platform == "reddit":
            author_id = f"t2_{_base36(_digest(self.seed, 'author/' + handle), 8)}"
        else:
            author_id = str(10**8 + _digest(self.seed, "author/" + handle) % 10**18)
        persona = (handle, name, author_id, followers)
        previous: Item | None = None
        for post in script["posts"]:
            moment = self._when(post["when"])
            parent = previous if post.get("thread") else None
            kind = "comment" if parent and platform == "reddit" else ("post" if platform == "reddit" else "x")
            item = self._add(script["brand"], platform, post.get("lang", lang), post["cat"], post["text"], persona,
                             moment, kind, spike=post.get("spike", False), parent=parent, sub=post.get("sub"))
            item.plan = post.get("plan")
            item.tags = tuple(script.get("tags", ())) + tuple(post.get("tags", ()))
            item.note = post.get("note")
            item.reply_text = post.get("reply")
            self.seen.add(post["text"])
            previous = item

    # Records

    def _add(self, brand: str, platform: str, lang: str, cat: str, text: str, persona: tuple, moment: datetime,
             kind: str, spike: bool = False, parent: Item | None = None, sub: str | None = None) -> Item:
        """Make one import record and remember it."""
        self.count += 1
        key = f"mention/{self.count}"
        handle, name, author_id, followers = persona
        record = {"platform": platform, "brand": BRANDS[brand]["name"], "text": text, "language": lang}
        if platform == "x":
            record.update(self._x_fields(key, handle, parent))
        else:
            record.update(self._reddit_fields(key, brand, cat, text, kind, parent, sub))
        likes, reposts, replies = self._engagement(platform, followers, cat, kind, spike)
        record.update({
            "author": handle, "author_id": author_id, "author_name": name, "author_followers": followers,
            "like_count": likes, "repost_count": reposts, "reply_count": replies, "created_at": store.utc_text(moment),
            "mentions_brand_handle": addresses(text, brand, platform), "in_reply_to_brand": parent is not None,
        })  # fmt: skip
        item = Item(record=record, brand=brand, cat=cat, lang=lang, spike=spike)
        if parent is not None:
            parent.reply_id = record["in_reply_to_id"]
            parent.reply_before = moment
        self.items.append(item)
        return item

    def _x_fields(self, key: str, handle: str, parent: Item | None) -> dict:
        """Id, url and thread fields of an X post (a reply to our reply when `parent` is given)."""
        post_id = _x_id(self.seed, key)
        fields = {"id": post_id, "url": f"https://x.com/{handle}/status/{post_id}"}
        if parent is None:
            return fields | {"in_reply_to_id": None, "conversation_id": post_id, "thread_id": post_id}
        root = parent.record["conversation_id"]
        ours = _x_id(self.seed, key + "/our-reply")
        return fields | {"in_reply_to_id": ours, "conversation_id": root, "thread_id": root}

    def _reddit_fields(self, key: str, brand: str, cat: str, text: str, kind: str, parent: Item | None,
                       sub: str | None) -> dict:  # fmt: skip
        """Id, url and thread fields of a Reddit submission or comment."""
        if kind == "post":
            post_id = _reddit_id(self.seed, key, "t3")
            city = next((c for c in CITIES if c in text.split("\n\n")[0]), None)
            sub = sub or POST_SUBS.get(cat) or (city.replace(" ", "") if cat == "outage" and city else None)
            sub = sub or self.rng.choice(REDDIT_SUBS[brand])
            url = f"https://www.reddit.com/r/{sub}/comments/{post_id[3:]}/{_slug(text.split(chr(10))[0])}/"
            return {"id": post_id, "url": url, "in_reply_to_id": None, "conversation_id": post_id, "thread_id": post_id}
        comment_id = _reddit_id(self.seed, key, "t1")
        if parent is not None:
            submission = parent.record["conversation_id"]
            base = _reddit_base(parent.record)
            ours = _reddit_id(self.seed, key + "/our-reply", "t1")
            return {"id": comment_id, "url": f"{base}{comment_id[3:]}/", "in_reply_to_id": ours,
                    "conversation_id": submission, "thread_id": submission}  # fmt: skip
        submission = _reddit_id(self.seed, key + "/thread", "t3")
        sub = sub or self.rng.choice(REDDIT_SUBS[brand])
        url = f"https://www.reddit.com/r/{sub}/comments/{submission[3:]}/{self.rng.choice(THREAD_SLUGS[brand])}/{comment_id[3:]}/"
        return {"id": comment_id, "url": url, "in_reply_to_id": submission, "conversation_id": submission,
                "thread_id": submission}  # fmt: skip

    def _engagement(self, platform: str, followers: int, cat: str, kind: str, spike: bool) -> tuple[int, int, int]:
        """Plausible likes, reposts and replies for a post."""
        rng = self.rng
        if cat == "spam":
            return rng.randint(0, 3), rng.randint(0, 2), 0
        if platform == "reddit":
            score = int(math.exp(rng.gauss(2.6 if kind == "post" else 1.3, 1.0)))
            comments = int(score * rng.uniform(0.2, 0.8)) if kind == "post" else rng.randint(0, 4)
            return max(score, 1), 0, comments
        rate = rng.uniform(0.002, 0.02) * (2.5 if spike or cat == "sarcasm" else 1)
        likes = int(followers * rate) + rng.randint(0, 4)
        return likes, int(likes * rng.uniform(0.05, 0.35)), rng.randint(0, 3) + int(likes * rng.uniform(0.02, 0.15))


# --- Loading ----------------------------------------------------------------------


def load_demo(db, settings, now: datetime | None = None, seed: int = 7) -> dict:
    """Upsert the demo mentions and, on the first load only, the staff history; return counts."""
    now = _utc(now)
    configured = {b.name.lower() for b in settings.brands}
    items = [item for item in build(now, seed) if item.record["brand"].lower() in configured]
    rows = [formats.to_mention(item.record, settings) for item in items]
    history = {"replies": 0, "tags": 0, "notes": 0}
    with db.atomic():
        new, updated = store.upsert_mentions(db, rows)
        first_load = store.get_meta(db, META_KEY) is None
        if first_load:
            history = _History(db, now, seed).run(items)
            store.set_meta(db, META_KEY, store.utc_text(now))
    return {"mentions": len(rows), "new": new, "updated": updated, **history, "history_added": first_load}


# Staff history, spread over two weeks: written through store.py's helpers with
# historical timestamps (`at`).


class _History:
    """Writes the staff history of the demo mentions (first load only)."""

    def __init__(self, db, now: datetime, seed: int):
        """Remember where and when to write."""
        self.db, self.now, self.seed = db, now, seed
        self.rng = random.Random(seed * 31 + 5)
        self.counts = {"replies": 0, "tags": 0, "notes": 0}

    def run(self, items: list[Item]) -> dict:
        """Work every demo mention; return how many replies, tags and notes were written."""
        ids = store.mention_ids(self.db, [(i.record["platform"], i.record["id"]) for i in items])
        for item in items:
            mention_id = ids.get((item.record["platform"], item.record["id"]))
            if mention_id is not None:
                self._work(item, mention_id)
        return self.counts

    def _plan(self, item: Item, age: timedelta) -> tuple[str, bool, str | None]:
        """(status, replied, agent) for a mention without a scripted plan."""
        agent = self.rng.choice(AGENTS)
        old, roll = age > timedelta(hours=12), self.rng.random()
        if item.brand == "V":  # a competitor: listened to, never answered
            return ("ignored", False, None) if old and roll < 0.35 else ("new", False, None)
        if item.cat == "spam":
            return ("ignored", False, None) if age > timedelta(hours=3) and roll < 0.85 else ("new", False, None)
        if item.cat == "news":
            return ("ignored", False, None) if old and roll < 0.55 else ("new", False, None)
        if item.spike and old:
            if roll < 0.62:
                return "resolved", True, agent
            return ("open", False, agent) if roll < 0.72 else ("new", False, None)
        if old:
            if roll < 0.27:
                return "resolved", True, agent
            if roll < 0.34:
                return "waiting", True, agent
            return ("open", False, agent) if roll < 0.44 else ("new", False, None)
        if roll < 0.10:
            return "open", False, agent
        return ("waiting", True, agent) if roll < 0.18 else ("new", False, None)

    def _work(self, item: Item, mention_id: int) -> None:
        """Apply one mention's history: reply, status, assignee, tags and note."""
        created = store.parse_utc(item.record["created_at"])
        status, replied, agent = item.plan or self._plan(item, self.now - created)
        if item.reply_id and not replied:  # a later post answers our reply, so there was one
            replied, status = True, "waiting" if status == "new" else status
        agent = agent or self.rng.choice(AGENTS)
        acted = created + timedelta(minutes=self.rng.randint(10, 300))
        if replied:
            sent = self._reply(item, mention_id, created, agent)
            if sent is None and status in ("waiting", "resolved"):
                status = "open"
            acted = sent or acted
        acted = min(acted, self.now - timedelta(minutes=1))
        if status != "new":
            assignee = None if status == "ignored" else agent
            store.set_demo_status(self.db, mention_id, status, assignee, agent, store.utc_text(acted))
        self._tag(item, mention_id, acted, agent, handled=status != "new" or replied)
        if item.note:
            store.add_note(self.db, mention_id, agent, item.note, at=store.utc_text(acted))
            self.counts["notes"] += 1

    def _delay(self, item: Item) -> timedelta:
        """How long after the mention we replied: 5 to 240 minutes, faster for urgent ones."""
        minutes = math.exp(self.rng.gauss(3.5, 0.75))
        if "vip" in item.tags or item.cat in ALWAYS_TAGGED:
            minutes *= 0.4
        if item.spike:
            minutes = 45 + minutes * 1.5  # the team was swamped
        return timedelta(minutes=max(5.0, min(240.0, minutes)))

    def _body(self, item: Item, agent: str) -> str:
        """Our reply in the mention's language, signed by the agent."""
        if item.reply_text:
            return item.reply_text.format(agent=AGENT_NAMES[agent])
        if item.lang in ("th", "es"):
            key = f"{item.lang}_praise" if item.cat == "praise" else item.lang
        elif item.spike and item.cat in ("outage", "sarcasm", "cancel", "billing", "safety"):
            key = "outage_spike"
        else:
            key = item.cat if item.cat in REPLIES else "question"
        return self.rng.choice(REPLIES[key]).format(agent=AGENT_NAMES[agent])

    def _reply(self, item: Item, mention_id: int, created: datetime, agent: str) -> datetime | None:
        """Record our demo reply (5-240 minutes after the mention); return when it was sent, or None."""
        latest = min(item.reply_before or self.now, self.now) - timedelta(minutes=1)
        sent = created + self._delay(item)
        if sent > latest:
            room = (latest - created).total_seconds()
            if room < 5 * 60:
                return None
            sent = created + timedelta(seconds=self.rng.uniform(5 * 60, room))
        sent = sent.replace(microsecond=0)
        record, platform = item.record, item.record["platform"]
        key = f"reply/{record['id']}"
        reply_id = item.reply_id or (_x_id(self.seed, key) if platform == "x" else _reddit_id(self.seed, key, "t1"))
        if platform == "x":
            url = f"https://x.com/{BRANDS[item.brand]['x'][-1]}/status/{reply_id}"
        else:
            url = f"{_reddit_base(record)}{reply_id[3:]}/"
        composed = sent - timedelta(seconds=self.rng.randint(20, 240))
        body, idempotency_key = self._body(item, agent), f"demo:{platform}:{record['id']}"
        added = store.add_demo_reply(self.db, mention_id, idempotency_key, agent, body, reply_id, url,
                                     store.utc_text(max(composed, created)), store.utc_text(sent))  # fmt: skip
        if added is None:
            return None
        self.counts["replies"] += 1
        return sent

    def _tag(self, item: Item, mention_id: int, at: datetime, agent: str, handled: bool) -> None:
        """Tag as staff would: most handled mentions, a few new ones, always VIPs and serious issues."""
        tags = list(item.tags)
        tag = "outage" if item.spike and item.cat != "news" else TAG_FOR.get(item.cat)
        if tag and (item.cat in ALWAYS_TAGGED or self.rng.random() < (0.75 if handled else 0.12)):
            tags.append(tag)
        if item.record["author_followers"] >= 100_000 and item.brand != "V" and item.cat != "news":
            tags.append("vip")
        at = min(at, self.now - timedelta(minutes=1))
        tagged = set(store.mention_tags(self.db, mention_id))
        for tag in dict.fromkeys(tags):
            if tag not in tagged:  # store.add_tag audits every call; only new tags are history
                store.add_tag(self.db, [mention_id], tag, agent, at=store.utc_text(at))
                self.counts["tags"] += 1


def _reddit_base(record: dict) -> str:
    """The permalink of the submission a Reddit record belongs to (ends with '/')."""
    url = record["url"]
    return url if record["id"].startswith("t3_") else url.rstrip("/").rsplit("/", 1)[0] + "/"


def main() -> None:
    """Write the demo records to stdout as JSONL."""
    for record in demo_records(clock.now()):
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
