package incident

import "strings"

// LocalRegion is the region of the all-in-one process's own probe worker.
const LocalRegion = "local"

// placeNames are the public names of probe regions: Fly.io's region codes,
// the usual names of a multi-region deployment. A region not listed is
// shown by its code.
var placeNames = map[string]string{
	"ams": "Amsterdam", "arn": "Stockholm", "atl": "Atlanta", "bog": "Bogotá", "bom": "Mumbai",
	"bos": "Boston", "cdg": "Paris", "den": "Denver", "dfw": "Dallas", "ewr": "New Jersey",
	"eze": "Buenos Aires", "fra": "Frankfurt", "gdl": "Guadalajara", "gig": "Rio de Janeiro",
	"gru": "São Paulo", "hkg": "Hong Kong", "iad": "Virginia", "jnb": "Johannesburg", "lax": "Los Angeles",
	"lhr": "London", "mad": "Madrid", "mia": "Miami", "nrt": "Tokyo", "ord": "Chicago", "otp": "Bucharest",
	"phx": "Phoenix", "qro": "Querétaro", "scl": "Santiago", "sea": "Seattle", "sin": "Singapore",
	"sjc": "San Jose", "syd": "Sydney", "waw": "Warsaw", "yul": "Montreal", "yyz": "Toronto",
}

// PlaceName is the public name of a probe region: a city for a known
// code, "our monitoring" for the local worker, otherwise the code itself.
func PlaceName(region string) string {
	if region == LocalRegion {
		return "our monitoring"
	}
	if name, ok := placeNames[strings.ToLower(region)]; ok {
		return name
	}
	return region
}

// seenFrom words where a problem was seen: "seen from Frankfurt and
// Virginia", "seen by our monitoring", or "" when no region is known.
func seenFrom(regions []string) string {
	var places []string
	local := false
	for _, r := range regions {
		if r == LocalRegion {
			local = true
			continue
		}
		places = append(places, PlaceName(r))
	}
	switch {
	case len(places) == 0 && local:
		return "seen by our monitoring"
	case len(places) == 0:
		return ""
	case local:
		return "seen from " + joinAnd(places) + " and by our monitoring"
	}
	return "seen from " + joinAnd(places)
}

// joinAnd joins words as prose: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
