package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageNames lists the page templates; each is parsed together with layout.html.
var pageNames = []string{"login", "error", "demo", "demo_result"}

// Pages renders Signet's HTML pages from embedded templates.
type Pages struct {
	pages map[string]*template.Template
}

// LoginData is what the login page needs to show one authorization request.
type LoginData struct {
	AuthRequestID string   // the OP's authorization request the signature completes
	ClientName    string   // the asking app's display name
	RedirectHost  string   // host of the client's redirect URI, shown so the person knows where they go
	Claims        []string // human-readable lines of what the app will receive
	ChainIDs      []int64  // allowed chains, first preferred
	ChallengeURL  string   // absolute or root-relative URL to POST for a challenge
	VerifyURL     string   // URL to POST the signature
	StaticURL     string   // prefix of the static files, ending in "/", e.g. "/static/"
	CancelURL     string   // optional link to abort (may be empty)
	ContinueAs    string   // the account of the browser's single sign-on session ("" for none)
	ContinueURL   string   // URL to POST to continue as that account
}

// ErrorData is what the error page shows.
type ErrorData struct {
	Title     string // short headline; "Something went wrong" when empty
	Message   string // what happened and what the person can do, in words
	StaticURL string // prefix of the static files, ending in "/"
}

// DemoData is what the /demo relying party's home page needs.
type DemoData struct {
	StartURL  string // where "Sign in with Signet" goes to start the authorization-code flow
	StaticURL string // prefix of the static files, ending in "/"
	Issuer    string // the issuer URL the demo trusts, shown for orientation
}

// DemoResultData is what the /demo relying party shows after its callback.
type DemoResultData struct {
	ClaimsJSON   string // the verified ID-token claims as JSON
	IDToken      string // the raw ID token
	AccessToken  string // the raw access token
	RefreshToken string // the raw refresh token; empty when none was issued
	Issuer       string // the issuer URL the tokens were verified against
	StaticURL    string // prefix of the static files, ending in "/"
	BackURL      string // link back to the demo home
	Error        string // when set, the sign-in failed and this says why; tokens are not shown
}

// New parses all templates once.
func New() (*Pages, error) {
	hashes, err := assetHashes()
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"asset": func(prefix, name string) string {
			u := staticPrefix(prefix) + name
			if h, ok := hashes[name]; ok {
				u += "?v=" + h
			}
			return u
		},
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	p := &Pages{pages: make(map[string]*template.Template, len(pageNames))}
	for _, name := range pageNames {
		t, err := layout.Clone()
		if err != nil {
			return nil, fmt.Errorf("web: clone layout for %s: %w", name, err)
		}
		if _, err := t.ParseFS(templateFS, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", name, err)
		}
		p.pages[name] = t
	}
	return p, nil
}

// Login renders the page that asks the person to sign in with their wallet.
func (p *Pages) Login(w io.Writer, d LoginData) error {
	ids := make([]string, len(d.ChainIDs))
	for i, id := range d.ChainIDs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	v := loginView{LoginData: d, ChainIDList: strings.Join(ids, ","), Initial: initial(d.ClientName)}
	if len(d.ChainIDs) > 0 {
		v.ChainName = chainName(d.ChainIDs[0])
	}
	return p.render(w, "login", v)
}

// Error renders a page that explains a failure in words.
func (p *Pages) Error(w io.Writer, d ErrorData) error {
	if d.Title == "" {
		d.Title = "Something went wrong"
	}
	return p.render(w, "error", d)
}

// Demo renders the home page of the /demo relying party.
func (p *Pages) Demo(w io.Writer, d DemoData) error {
	return p.render(w, "demo", d)
}

// DemoResult renders the verified ID-token claims and the raw tokens the /demo relying party received.
func (p *Pages) DemoResult(w io.Writer, d DemoResultData) error {
	v := demoResultView{DemoResultData: d, PrettyClaims: prettyJSON(d.ClaimsJSON)}
	var claims map[string]any
	if json.Unmarshal([]byte(d.ClaimsJSON), &claims) == nil {
		v.Subject = claimString(claims["sub"])
		v.Address = claimString(claims["ethereum_address"])
		v.Username = claimString(claims["preferred_username"])
		if v.Username == v.Address {
			v.Username = ""
		}
		if id, ok := claims["chain_id"].(float64); ok && id == float64(int64(id)) {
			v.Chain = chainName(int64(id))
		}
	}
	return p.render(w, "demo_result", v)
}

// render executes a page into a buffer first, so a failing template never leaves half a page behind.
func (p *Pages) render(w io.Writer, name string, data any) error {
	t, ok := p.pages[name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// loginView adds what the login template derives from LoginData.
type loginView struct {
	LoginData
	ChainIDList string // ChainIDs as comma-separated decimals, for data-chain-ids
	ChainName   string // the preferred chain in words, e.g. "Ethereum Mainnet (chain 1)"
	Initial     string // first letter of the client name, for its avatar
}

// demoResultView adds what the demo result template derives from DemoResultData.
type demoResultView struct {
	DemoResultData
	PrettyClaims string
	Subject      string
	Address      string
	Username     string
	Chain        string
}

// staticPrefix returns the static URL prefix with exactly one trailing slash, "/static/" when empty.
func staticPrefix(s string) string {
	if s == "" {
		return "/static/"
	}
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s
}

// initial returns the upper-cased first letter or digit of name, or "?".
func initial(name string) string {
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return string(unicode.ToUpper(r))
		}
	}
	return "?"
}

// chainNames names the EVM chains people are most likely to meet (chainlist.org).
var chainNames = map[int64]string{
	1:        "Ethereum Mainnet",
	10:       "OP Mainnet",
	56:       "BNB Smart Chain",
	100:      "Gnosis",
	137:      "Polygon",
	324:      "zkSync Era",
	8453:     "Base",
	42161:    "Arbitrum One",
	43114:    "Avalanche C-Chain",
	59144:    "Linea",
	80002:    "Polygon Amoy",
	84532:    "Base Sepolia",
	17000:    "Holesky",
	11155111: "Sepolia",
	560048:   "Hoodi",
}

// chainName describes a chain in words, e.g. "Polygon (chain 137)".
func chainName(id int64) string {
	if n, ok := chainNames[id]; ok {
		return fmt.Sprintf("%s (chain %d)", n, id)
	}
	return fmt.Sprintf("chain %d", id)
}

// prettyJSON indents s with two spaces, or returns it unchanged when it is not JSON.
func prettyJSON(s string) string {
	var compact, out bytes.Buffer
	if json.Compact(&compact, []byte(s)) != nil {
		return s
	}
	if json.Indent(&out, compact.Bytes(), "", "  ") != nil {
		return s
	}
	return out.String()
}

// claimString returns v when it is a non-empty valid UTF-8 string, else "".
func claimString(v any) string {
	s, _ := v.(string)
	if !utf8.ValidString(s) {
		return ""
	}
	return s
}
