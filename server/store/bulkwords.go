package store

// The vocabulary of BulkGenerator. Written for this project: plain support
// English, with reserved example domains and 555 phone numbers so nothing
// generated belongs to anyone.

// topic is what a conversation is about: the customer's ways of putting
// the problem and the agent's ways of answering it.
type topic struct {
	problems, replies []string
}

var topics = []topic{
	{ // refund
		problems: []string{
			"I would like a refund for the {product}.",
			"Can I get my money back for the {product}?",
			"I returned the {product} on {day} and I am still waiting for the refund.",
			"Please refund the {product}, it is not what I expected.",
		},
		replies: []string{
			"I have issued a refund for the {product}; it takes three to five business days to reach your card.",
			"The refund was approved today and you will get a confirmation email shortly.",
			"Once the {product} is back at our warehouse the refund goes out automatically.",
		},
	},
	{ // late delivery
		problems: []string{
			"My {product} has not arrived yet.",
			"The courier says the {product} was delivered but there is nothing at my door.",
			"Where is my {product}? The tracking page has not changed since {day}.",
			"The delivery of the {product} to {city} is a week late.",
		},
		replies: []string{
			"I checked with the courier and the {product} is at the depot in {city}.",
			"Sorry for the delay, the {product} is on its way and should arrive by {day}.",
			"I have opened an investigation with the carrier about the missing parcel.",
		},
	},
	{ // damaged
		problems: []string{
			"The {product} arrived broken.",
			"The {product} stopped working after two days.",
			"The box was crushed and the {product} inside is damaged.",
			"The screen of the {product} is cracked.",
		},
		replies: []string{
			"Sorry the {product} arrived damaged, could you send a photo of it?",
			"I am sending a replacement {product} today, no need to return the broken one.",
			"That should not happen, I have passed the photos to our quality team.",
		},
	},
	{ // invoice
		problems: []string{
			"I need an invoice for the {product}.",
			"The invoice for my {product} shows the wrong billing address.",
			"Can you send a VAT invoice for the {product} to my company?",
		},
		replies: []string{
			"I have attached a corrected invoice with your company details.",
			"You can download the invoice for the {product} from your account page.",
		},
	},
	{ // account
		problems: []string{
			"I cannot log in to my account.",
			"The password reset email never arrives.",
			"My account is locked after too many attempts.",
			"I changed my email address and now I cannot sign in.",
		},
		replies: []string{
			"I have unlocked your account, please try to reset your password again.",
			"The reset email sometimes lands in the spam folder, could you check there?",
			"I have updated the email address on your account.",
		},
	},
	{ // subscription
		problems: []string{
			"How do I upgrade my subscription to the premium plan?",
			"Please cancel my subscription.",
			"I was charged twice for my subscription this month.",
		},
		replies: []string{
			"I have cancelled the subscription and you will not be charged again.",
			"The duplicate charge was refunded today.",
			"You can switch plans under billing settings at any time.",
		},
	},
	{ // exchange
		problems: []string{
			"Can I exchange the {product} for a different size?",
			"I ordered the wrong colour of {product}.",
			"The {product} is too small, can I swap it?",
		},
		replies: []string{
			"Of course, I have created an exchange label for the {product}.",
			"The new {product} will ship as soon as we receive the return.",
		},
	},
	{ // warranty
		problems: []string{
			"Is the {product} still under warranty?",
			"The warranty card for my {product} is missing.",
			"The {product} failed after eleven months, is that covered?",
		},
		replies: []string{
			"Yes, the {product} has a two year warranty, so this is covered.",
			"I have registered the warranty for your {product}.",
		},
	},
	{ // address
		problems: []string{
			"I need to change the delivery address for my {product}.",
			"I moved to {city}, can you update my address?",
		},
		replies: []string{
			"I have updated the address before the {product} left the warehouse.",
			"The parcel already shipped, but I asked the courier to redirect it to {city}.",
		},
	},
	{ // discount
		problems: []string{
			"My discount code did not apply to the {product}.",
			"Do you have a student discount for the {product}?",
			"The price of the {product} dropped the day after I bought it.",
		},
		replies: []string{
			"I have applied the discount manually and refunded the difference.",
			"We do not have a student discount at the moment, but I added a voucher to your account.",
		},
	},
}

var (
	greetings = []string{"Hi!", "Hello.", "Hi there.", "Good morning.", "Good evening.", "Hey!", ""}
	details   = []string{
		"I ordered it on {day}.",
		"It was a gift for my {relative}.",
		"I live in {city}.",
		"This is the second time this has happened.",
		"I already called your hotline twice.",
		"My {relative} says the same thing happened to them.",
		"I need it before the weekend.",
		"I have been a customer for years.",
	}
	closings  = []string{"Thanks.", "Thank you!", "Please help.", "Regards, {name}.", "Cheers, {name}", "Any update would be great.", ""}
	followUps = []string{
		"Any news on this?",
		"I sent the photos you asked for.",
		"Still waiting for the {product}.",
		"That worked, thanks!",
		"Can you confirm this is sorted?",
		"I tried that and it did not help.",
		"Great, thank you for the quick answer.",
		"Sorry, one more question about the {product}.",
		"It is now {day} and nothing has changed.",
	}
	replyGreetings = []string{"Hi", "Hello", "Thanks for reaching out", "Thanks for your patience", "Good news"}
	replySignoffs  = []string{"Let me know if there is anything else.", "Have a great day!", "Best regards.", "Thanks for bearing with us."}
	products       = []string{
		"blender", "kettle", "toaster", "headphones", "speaker", "backpack", "jacket", "sneakers", "lamp", "desk chair",
		"coffee grinder", "phone case", "charger", "keyboard", "monitor", "router", "smartwatch", "tent", "sleeping bag",
		"water bottle", "yoga mat", "frying pan", "suitcase", "umbrella", "vacuum cleaner", "air purifier", "camera",
		"tripod", "printer", "bike helmet",
	}
	weekdays  = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	relatives = []string{"mother", "father", "sister", "brother", "daughter", "son", "partner", "friend", "colleague"}
	cities    = []string{
		"Lisbon", "Porto", "Madrid", "Valencia", "Lyon", "Marseille", "Hamburg", "Leipzig", "Utrecht", "Ghent",
		"Dublin", "Cork", "Glasgow", "Leeds", "Bristol", "Oslo", "Bergen", "Aarhus", "Turku", "Tallinn",
		"Krakow", "Brno", "Graz", "Bologna", "Naples", "Seville", "Bilbao", "Nantes", "Toulouse", "Antwerp",
	}
	firstNames = []string{
		"Maria", "Ana", "Lucia", "Sofia", "Emma", "Olivia", "Mia", "Lea", "Nora", "Ines", "Zoe", "Chloe", "Hana",
		"Amara", "Priya", "Mei", "Yuki", "Fatima", "Leila", "Ingrid", "Carlos", "Jose", "Luis", "Mateo", "Liam",
		"Noah", "Lucas", "Hugo", "Finn", "Omar", "Ravi", "Kenji", "Wei", "Tariq", "Emeka", "Sven", "Pablo", "Marco",
		"Tomas", "Jonas",
	}
	lastNames = []string{
		"Silva", "Santos", "Garcia", "Martinez", "Rossi", "Bianchi", "Muller", "Schmidt", "Dubois", "Moreau",
		"Jansen", "De Vries", "Nowak", "Kowalski", "Novak", "Horvat", "Nielsen", "Hansen", "Larsen", "Virtanen",
		"Murphy", "Kelly", "Smith", "Jones", "Okafor", "Adeyemi", "Mensah", "Haddad", "Khan", "Patel", "Sharma",
		"Tanaka", "Sato", "Kim", "Park", "Nguyen", "Tran", "Chen", "Wang", "Lopez",
	}
	emailDomains  = []string{"example.com", "example.net", "example.org"}
	syllables     = []string{"ka", "lo", "ven", "tri", "mo", "za", "rel", "qu", "an", "dor", "pix", "el", "ta", "nu", "gri", "sol", "vex", "ora", "lin", "bo", "ster", "ix", "ma", "ru", "fen", "cal", "dra", "on", "py", "zu"}
	trackingChars = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

	priorities = []weight[Priority]{
		{PriorityNone, 70}, {PriorityLow, 10}, {PriorityMedium, 10}, {PriorityHigh, 7}, {PriorityUrgent, 3},
	}
	// Recent conversations are mostly still being worked on; old ones
	// mostly resolved.
	recentStatuses = []weight[Status]{{StatusOpen, 55}, {StatusPending, 20}, {StatusResolved, 25}}
	oldStatuses    = []weight[Status]{{StatusOpen, 10}, {StatusPending, 5}, {StatusResolved, 85}}
)
