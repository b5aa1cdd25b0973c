package store

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// BulkGenerator generates the rows of a bulk load, conversation by
// conversation, deterministically: the same BulkSpec and members give the
// same rows every time. Both stores write what it generates, so the data a
// benchmark runs on is the same whatever the database; ids are the
// stores' to assign.
//
// The text is made to be searched: each conversation is about one topic
// (a refund, a late delivery, a locked account, ...) and one product, with
// a few hundred common words in Zipf-like proportions, made-up model names
// for a long tail, and one unique order number per conversation (see
// BulkOrderBase) and tracking codes for needles.
type BulkGenerator struct {
	spec   BulkSpec
	agents []int64
	teams  []weight[int64]
	rng    *rand.Rand
	next   int
}

// BulkContact is a generated contact. ExternalID is its identity on the
// load's inbox channel (IdentityChannelForInbox).
type BulkContact struct {
	Name, Email, Phone, ExternalID string
}

// BulkConversation is a generated conversation with its contact and
// messages, oldest message first. LastActivityAt is the newest message's
// CreatedAt.
type BulkConversation struct {
	Contact        BulkContact
	Status         Status
	Priority       Priority
	AssigneeID     int64
	TeamID         int64
	CreatedAt      time.Time
	LastActivityAt time.Time
	Messages       []BulkMessage
}

// BulkMessage is a generated message. Inbound messages are the contact's,
// with a provider message id; outbound ones are replies already delivered
// (or read), whose outbox entry the store writes as done.
type BulkMessage struct {
	Direction         Direction
	AuthorKind        AuthorKind
	AuthorAgentID     int64
	Body              string
	ProviderMessageID string
	Status            DeliveryStatus
	CreatedAt         time.Time
}

// NewBulkGenerator returns a generator for spec, which must be
// normalized. Replies and assignments go to agentIDs (the workspace's
// members, in id order); with none, replies are the system's and nothing
// is assigned. Most conversations are routed to one of teamIDs (the
// workspace's teams, in id order), in shares that fall threefold from one
// team to the next, so there are big queues and small ones.
func NewBulkGenerator(spec BulkSpec, agentIDs, teamIDs []int64) *BulkGenerator {
	g := &BulkGenerator{spec: spec, agents: agentIDs, teams: make([]weight[int64], len(teamIDs)), rng: rand.New(rand.NewPCG(spec.Seed, 0x5b0a4d))}
	share := 1
	for k := len(teamIDs) - 1; k >= 0; k-- {
		g.teams[k] = weight[int64]{teamIDs[k], share}
		share = min(share*3, 1<<40)
	}
	return g
}

// Next returns up to n more conversations, none once the spec's are all
// generated.
func (g *BulkGenerator) Next(n int) []BulkConversation {
	n = min(n, g.spec.Conversations-g.next)
	if n <= 0 {
		return nil
	}
	out := make([]BulkConversation, n)
	for k := range out {
		out[k] = g.conversation(g.next)
		g.next++
	}
	return out
}

func (g *BulkGenerator) conversation(i int) BulkConversation {
	r := g.rng
	first, last := pick(r, firstNames), pick(r, lastNames)
	c := BulkConversation{
		Contact: BulkContact{
			Name:       first + " " + last,
			Email:      strings.ToLower(first) + "." + strings.ToLower(strings.ReplaceAll(last, " ", "")) + strconv.Itoa(r.IntN(100)) + "@" + pick(r, emailDomains),
			Phone:      "+1555" + pad(r.IntN(10_000_000), 7),
			ExternalID: "bulk-" + strconv.Itoa(i),
		},
		Priority: weighted(r, priorities),
	}

	// Gaps between messages: minutes to hours, as replies come. The
	// whole thread ends somewhere in the BulkSpan before Now.
	n := g.spec.MessagesPerConversation
	gaps := make([]time.Duration, n)
	var total time.Duration
	for j := 1; j < n; j++ {
		gaps[j] = time.Duration(2+r.IntN(360)) * time.Minute
		total += gaps[j]
	}
	end := g.spec.Now.Add(-time.Duration(r.Int64N(int64(BulkSpan))))
	at := end.Add(-total).Truncate(time.Microsecond)
	c.CreatedAt = at

	age := g.spec.Now.Sub(end)
	if age < 14*24*time.Hour {
		c.Status = weighted(r, recentStatuses)
	} else {
		c.Status = weighted(r, oldStatuses)
	}
	if len(g.agents) > 0 && (c.Status == StatusResolved || r.IntN(10) < 7) {
		c.AssigneeID = g.agents[r.IntN(len(g.agents))]
	}
	if len(g.teams) > 0 && r.IntN(10) < 6 {
		c.TeamID = weighted(r, g.teams)
	}

	t := topics[r.IntN(len(topics))]
	product := pick(r, products)
	if r.IntN(10) < 4 {
		product = modelName(r) + " " + product
	}
	order := strconv.Itoa(BulkOrderBase + i)
	c.Messages = make([]BulkMessage, n)
	var b strings.Builder
	for j := range n {
		at = at.Add(gaps[j])
		b.Reset()
		m := BulkMessage{CreatedAt: at}
		if j%2 == 0 {
			m.Direction, m.AuthorKind, m.Status = DirectionIn, AuthorContact, DeliveryReceived
			m.ProviderMessageID = "bulk-" + strconv.Itoa(i) + "-" + strconv.Itoa(j)
			if j == 0 {
				g.opening(&b, t, product, order, first)
			} else {
				g.followUp(&b, t, product)
			}
		} else {
			m.Direction, m.Status = DirectionOut, DeliveryRead
			if r.IntN(4) == 0 {
				m.Status = DeliveryDelivered
			}
			switch {
			case c.AssigneeID != 0:
				m.AuthorKind, m.AuthorAgentID = AuthorAgent, c.AssigneeID
			case len(g.agents) > 0:
				m.AuthorKind, m.AuthorAgentID = AuthorAgent, g.agents[r.IntN(len(g.agents))]
			default:
				m.AuthorKind = AuthorSystem
			}
			g.reply(&b, t, product, order, first)
		}
		m.Body = b.String()
		c.Messages[j] = m
	}
	c.LastActivityAt = at
	return c
}

// opening writes the customer's first message: greeting, problem, a
// detail or two, the order number, sign-off.
func (g *BulkGenerator) opening(b *strings.Builder, t topic, product, order, name string) {
	r := g.rng
	if s := pick(r, greetings); s != "" {
		b.WriteString(s)
		b.WriteString(" ")
	}
	sentence(b, r, pick(r, t.problems), product)
	for range r.IntN(3) {
		b.WriteString(" ")
		sentence(b, r, pick(r, details), product)
	}
	b.WriteString(" Order #")
	b.WriteString(order)
	b.WriteString(".")
	if s := pick(r, closings); s != "" {
		b.WriteString(" ")
		b.WriteString(strings.ReplaceAll(s, "{name}", name))
	}
}

func (g *BulkGenerator) followUp(b *strings.Builder, t topic, product string) {
	r := g.rng
	sentence(b, r, pick(r, followUps), product)
	if r.IntN(3) == 0 {
		b.WriteString(" ")
		sentence(b, r, pick(r, t.problems), product)
	}
	if r.IntN(4) == 0 {
		b.WriteString(" ")
		sentence(b, r, pick(r, details), product)
	}
}

func (g *BulkGenerator) reply(b *strings.Builder, t topic, product, order, name string) {
	r := g.rng
	b.WriteString(pick(r, replyGreetings))
	b.WriteString(" ")
	b.WriteString(name)
	b.WriteString(". ")
	sentence(b, r, pick(r, t.replies), product)
	switch r.IntN(4) {
	case 0:
		b.WriteString(" I have added a note to order #")
		b.WriteString(order)
		b.WriteString(".")
	case 1:
		b.WriteString(" Your tracking code is ")
		for range 10 {
			b.WriteByte(trackingChars[r.IntN(len(trackingChars))])
		}
		b.WriteString(".")
	}
	b.WriteString(" ")
	b.WriteString(pick(r, replySignoffs))
}

// sentence writes template s with {product}, {day}, {city} and
// {relative} filled in.
func sentence(b *strings.Builder, r *rand.Rand, s, product string) {
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return
		}
		j := i + strings.IndexByte(s[i:], '}')
		b.WriteString(s[:i])
		switch s[i+1 : j] {
		case "product":
			b.WriteString(product)
		case "day":
			b.WriteString(pick(r, weekdays))
		case "city":
			b.WriteString(pick(r, cities))
		case "relative":
			b.WriteString(pick(r, relatives))
		}
		s = s[j+1:]
	}
}

// modelName makes up a product model name from two or three syllables:
// thousands of distinct, rare words.
func modelName(r *rand.Rand) string {
	var b strings.Builder
	for k := range 2 + r.IntN(2) {
		s := syllables[r.IntN(len(syllables))]
		if k == 0 {
			s = strings.ToUpper(s[:1]) + s[1:]
		}
		b.WriteString(s)
	}
	return b.String()
}

func pick(r *rand.Rand, words []string) string { return words[r.IntN(len(words))] }

type weight[T any] struct {
	v T
	w int
}

func weighted[T any](r *rand.Rand, ws []weight[T]) T {
	total := 0
	for _, w := range ws {
		total += w.w
	}
	n := r.IntN(total)
	for _, w := range ws {
		if n < w.w {
			return w.v
		}
		n -= w.w
	}
	return ws[len(ws)-1].v
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}
