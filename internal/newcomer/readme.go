package newcomer

import (
	"regexp"
	"strings"
)

// Block is one fenced code block of the README.
type Block struct {
	Lang string // "sh", "go", "js", …
	Kind string // from the readme-test comment; "" for none
	Arg  string // what follows the kind (a skip's reason, an npm package)
	Code string
	Line int // the line of the opening fence
}

var directive = regexp.MustCompile(`<!--\s*readme-test:\s*(\S+)\s*(.*?)\s*-->`)

// Blocks returns the README's fenced code blocks, each with the
// readme-test directive on the line before it, if any.
func Blocks(readme string) []Block {
	lines := strings.Split(readme, "\n")
	var out []Block
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(trimmed, "```") || trimmed == "```" {
			continue
		}
		b := Block{Lang: strings.TrimPrefix(trimmed, "```"), Line: i + 1}
		if i > 0 {
			if m := directive.FindStringSubmatch(lines[i-1]); m != nil {
				b.Kind, b.Arg = m[1], strings.Trim(m[2], "()")
			}
		}
		indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " "))]
		var code []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			code = append(code, strings.TrimPrefix(lines[i], indent))
		}
		b.Code = strings.Join(code, "\n") + "\n"
		out = append(out, b)
	}
	return out
}
