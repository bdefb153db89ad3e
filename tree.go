package warren

import "strings"

// tree is a trie over the words of the mounted patterns. Matching a routing
// key walks only the branches whose words can match it (a literal child by
// map lookup, the "*" child and the "#" child), so its cost depends on the
// key and the wildcards along its path, not on the number of routes.
//
// The walk visits children in precedence order (literal, then "*", then the
// end of a pattern, then "#"), so the first match found below a node without
// a "#" is the most specific one. Below a "#", which may swallow any number
// of words, the candidates for each split are compared with Pattern.Compare;
// a "#" that ends a pattern takes the rest of the key at once, so a
// catch-all route costs the same for a key of any length.
type tree struct {
	root node
}

type node struct {
	literal map[string]*node
	star    *node
	hash    *node
	route   *route
}

// route is one mounted pattern with its chain, built once at registration.
type route struct {
	pattern Pattern
	handler Handler
}

// insert adds r and returns the route already mounted on the same pattern,
// if any (in which case nothing is inserted).
func (t *tree) insert(r *route) (existing *route) {
	n := &t.root
	for _, w := range r.pattern.words {
		n = n.child(w)
	}
	if n.route != nil {
		return n.route
	}
	n.route = r
	return nil
}

func (n *node) child(w string) *node {
	switch w {
	case "*":
		if n.star == nil {
			n.star = &node{}
		}
		return n.star
	case "#":
		if n.hash == nil {
			n.hash = &node{}
		}
		return n.hash
	default:
		if n.literal == nil {
			n.literal = make(map[string]*node)
		}
		c := n.literal[w]
		if c == nil {
			c = &node{}
			n.literal[w] = c
		}
		return c
	}
}

// match returns the most specific route whose pattern matches key, or nil.
// It does not allocate.
func (t *tree) match(key string) *route {
	pos := 0
	if key == "" {
		pos = 1 // the empty key has no words: start exhausted
	}
	return t.root.best(key, pos)
}

// A position in a key is the byte offset where the next word starts; a
// position past len(key) means every word has been consumed.

func nextWord(key string, pos int) (word string, next int) {
	if i := strings.IndexByte(key[pos:], '.'); i >= 0 {
		return key[pos : pos+i], pos + i + 1
	}
	return key[pos:], len(key) + 1
}

func (n *node) best(key string, pos int) *route {
	if pos > len(key) {
		if n.route != nil {
			return n.route
		}
		if n.hash != nil {
			return n.hash.bestAfterHash(key, pos)
		}
		return nil
	}
	if n.literal != nil || n.star != nil {
		w, next := nextWord(key, pos)
		if c := n.literal[w]; c != nil {
			if r := c.best(key, next); r != nil {
				return r
			}
		}
		if n.star != nil {
			if r := n.star.best(key, next); r != nil {
				return r
			}
		}
	}
	if n.hash != nil {
		return n.hash.bestAfterHash(key, pos)
	}
	return nil
}

// bestAfterHash is called on the node reached through a "#" edge; the "#"
// may consume any number of words starting at pos.
func (n *node) bestAfterHash(key string, pos int) *route {
	if n.literal == nil && n.star == nil && n.hash == nil {
		// A pattern ending in "#" ("#", "orders.#"): the "#" takes
		// whatever is left of the key, so there is no split to try.
		return n.route
	}
	var found *route
	for p := pos; ; {
		if r := n.best(key, p); r != nil && (found == nil || r.pattern.Compare(found.pattern) > 0) {
			found = r
		}
		if p > len(key) {
			return found
		}
		_, p = nextWord(key, p)
	}
}
