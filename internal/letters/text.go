package letters

// Languages are the languages a letter can be written in, in the order a
// letter shows them by default.
var Languages = []string{"en", "zh"}

// words is one language's text of a letter. The placeholders are filled
// with fmt: %s the voter's name or id, %d a weight.
type words struct {
	title       string // "Your voting credential"
	election    string // label before the election's title
	voter       string // label before the voter
	credential  string // label of the credential box
	scan        string // under the QR code
	booth       string // label before the booth URL
	link        string // label before the link with the credential (e-mail)
	fingerprint string // label before the election fingerprint
	weight      string // %d: the voter's weight (shown only when it is not 1)
	howTo       string // heading of the steps
	steps       []string
	secret      string // keep it secret
}

var texts = map[string]words{
	"en": {
		title:       "Your voting credential",
		election:    "Election",
		voter:       "Voter",
		credential:  "Your credential",
		scan:        "Scan to open the booth with your credential filled in",
		booth:       "Voting booth",
		link:        "Open the booth with your credential filled in",
		fingerprint: "Election fingerprint",
		weight:      "Your vote counts %d times.",
		howTo:       "How to vote",
		steps: []string{
			"Open the voting booth at the address above, or scan the QR code with your phone's camera.",
			"Check that the election fingerprint the booth shows is the one printed on this letter. If it differs, do not vote there.",
			"Enter your credential (the QR code fills it in for you). Capital or small letters, dashes and spaces do not matter; O reads as 0, and I and L as 1.",
			"Make your choices and cast your ballot. Keep the tracker the booth shows: with it you can check that your ballot is on the board.",
			"You may vote again while the election is open: only your last ballot counts.",
		},
		secret: "Keep this letter private: anyone who has your credential can vote in your place. Nobody from the election will ever ask you for it.",
	},
	"zh": {
		title:       "您的投票凭证",
		election:    "选举",
		voter:       "选民",
		credential:  "您的凭证",
		scan:        "扫描二维码，打开已填好凭证的投票页面",
		booth:       "投票页面",
		link:        "打开已填好凭证的投票页面",
		fingerprint: "选举指纹",
		weight:      "您的选票计为 %d 票。",
		howTo:       "投票步骤",
		steps: []string{
			"在浏览器中打开上面的投票页面地址，或用手机相机扫描二维码。",
			"核对投票页面显示的选举指纹与本信上印的是否一致。如不一致，请不要在该页面投票。",
			"输入您的凭证（扫描二维码时会自动填好）。大小写、短横线和空格均可忽略；O 视为 0，I 和 L 视为 1。",
			"做出选择并投出选票。请保存投票页面显示的跟踪码：凭它可以核对您的选票已在公告板上。",
			"选举开放期间您可以再次投票：只有最后一张选票计入结果。",
		},
		secret: "请妥善保管本信：任何持有您凭证的人都可以代替您投票。选举工作人员绝不会向您索要凭证。",
	},
}
