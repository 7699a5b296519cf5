package agentsim

import "fmt"

// baseSites are real-looking destinations of Japanese office PCs; more are made from them so
// that a terminal visits a few hundred sites.
var baseSites = []string{
	"www.google.com", "www.google.co.jp", "mail.google.com", "drive.google.com", "docs.google.com",
	"www.yahoo.co.jp", "news.yahoo.co.jp", "mail.yahoo.co.jp", "www.microsoft.com", "outlook.office.com",
	"teams.microsoft.com", "login.microsoftonline.com", "www.office.com", "onedrive.live.com", "www.bing.com",
	"www.amazon.co.jp", "www.rakuten.co.jp", "www.nikkei.com", "www3.nhk.or.jp", "www.asahi.com",
	"mainichi.jp", "www.yomiuri.co.jp", "www.itmedia.co.jp", "xtech.nikkei.com", "www.impress.co.jp",
	"qiita.com", "zenn.dev", "github.com", "stackoverflow.com", "www.youtube.com",
	"www.x.com", "www.facebook.com", "www.instagram.com", "line.me", "www.chatwork.com",
	"slack.com", "app.slack.com", "zoom.us", "www.dropbox.com", "www.box.com",
	"www.freee.co.jp", "www.moneyforward.com", "www.smbc.co.jp", "www.mufg.jp", "www.mizuhobank.co.jp",
	"www.jreast.co.jp", "www.jalan.net", "www.navitime.co.jp", "weather.yahoo.co.jp", "tenki.jp",
	"www.e-gov.go.jp", "www.nta.go.jp", "www.mhlw.go.jp", "www.ipa.go.jp", "www.jpcert.or.jp",
	"www.nisc.go.jp", "www.soumu.go.jp", "www.meti.go.jp", "www.pref.tokyo.lg.jp", "www.city.osaka.lg.jp",
	"www.kakaku.com", "www.monotaro.com", "www.askul.co.jp", "www.yodobashi.com", "www.biccamera.com",
	"cookpad.com", "tabelog.com", "www.hotpepper.jp", "www.cybozu.com", "kintone.cybozu.com",
	"www.salesforce.com", "www.sansan.com", "www.wantedly.com", "doda.jp", "www.indeed.com",
	"ja.wikipedia.org", "translate.google.co.jp", "www.deepl.com", "chat.openai.com", "www.canva.com",
	"192.168.1.10", "10.0.0.5",
}

// harmfulSites are visited now and then; a server whose dictionary lists them reports them.
var harmfulSites = []string{
	"casino-lucky-star.example.com", "bet365-jp.example.net", "free-crack-tools.example.org",
	"login-secure-verify.example.info", "adult-video-zone.example.com", "deai-match.example.jp",
	"warez-download.example.biz", "proxy-unblock.example.net",
}

// HarmfulDictionary is a URL dictionary that classifies the simulator's harmful sites (tests and
// benchmarks load it into the server).
const HarmfulDictionary = "casino-lucky-star.example.com\tgambling\n" +
	"bet365-jp.example.net\tgambling\n" +
	"free-crack-tools.example.org\tcracking\n" +
	"login-secure-verify.example.info\tphishingFraud\n" +
	"adult-video-zone.example.com\tadultPornography\n" +
	"deai-match.example.jp\tdating\n" +
	"warez-download.example.biz\tcopyrightInfringement\n" +
	"proxy-unblock.example.net\tpublicProxy\n"

// siteList is every site a simulated terminal may visit: the base sites and, made from them,
// subsidiaries and regional sites, about 300 in all.
var siteList = func() []string {
	out := append([]string{}, baseSites...)
	regions := []string{"tokyo", "osaka", "nagoya", "fukuoka", "sapporo", "sendai", "hiroshima"}
	kinds := []string{"shop", "clinic", "kougyou", "shouji", "fudousan", "kensetsu", "unyu", "insatsu"}
	for i := 0; len(out) < 300; i++ {
		out = append(out, fmt.Sprintf("www.%s-%s%d.co.jp", regions[i%len(regions)], kinds[(i/len(regions))%len(kinds)], i))
	}
	return out
}()

var pagePaths = []string{"/", "/index.html", "/news/", "/search?q=%E8%A6%8B%E7%A9%8D", "/products/item/", "/support/faq",
	"/mypage/settings", "/article/20250701/", "/docs/manual.pdf", "/login", "/contact/form", "/blog/entry-"}

var pageTitles = []string{"トップページ", "ニュース一覧", "検索結果", "製品情報", "よくあるご質問", "マイページ",
	"お知らせ", "ログイン", "お問い合わせ", "ブログ記事", "Inbox", "Dashboard", "Document"}

var applications = []struct{ name, path, version, publisher string }{
	{"Microsoft Edge", `C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`, "126.0.2592.87", "Microsoft Corporation"},
	{"Google Chrome", `C:\Program Files\Google\Chrome\Application\chrome.exe`, "126.0.6478.127", "Google LLC"},
	{"Microsoft Excel", `C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE`, "16.0.17628.20144", "Microsoft Corporation"},
	{"Microsoft Word", `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`, "16.0.17628.20144", "Microsoft Corporation"},
	{"Microsoft Outlook", `C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE`, "16.0.17628.20144", "Microsoft Corporation"},
	{"Microsoft Teams", `C:\Users\user\AppData\Local\Microsoft\Teams\current\Teams.exe`, "24152.405.2925.6762", "Microsoft Corporation"},
	{"Adobe Acrobat Reader", `C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe`, "24.002.20857", "Adobe Inc."},
	{"Zoom", `C:\Users\user\AppData\Roaming\Zoom\bin\Zoom.exe`, "6.0.11", "Zoom Video Communications, Inc."},
	{"7-Zip", `C:\Program Files\7-Zip\7zFM.exe`, "23.01", "Igor Pavlov"},
	{"Notepad++", `C:\Program Files\Notepad++\notepad++.exe`, "8.6.8", "Notepad++ Team"},
	{"Java 8 Update 351", `C:\Program Files\Java\jre1.8.0_351\bin\java.exe`, "8.0.3510.10", "Oracle Corporation"},
	{"Mozilla Firefox", `C:\Program Files\Mozilla Firefox\firefox.exe`, "115.12.0", "Mozilla"},
}

var users = []string{"tanaka", "suzuki", "takahashi", "watanabe", "ito", "yamamoto", "nakamura", "kobayashi"}

var devices = []struct{ class, name, vendor string }{
	{"usbStorage", "USB DISK 3.0", "Kingston"}, {"usbStorage", "Cruzer Blade", "SanDisk"}, {"externalHdd", "HD-PCFSU3", "BUFFALO"},
	{"optical", "DVD RW DRIVE", "LG"}, {"appleMobile", "Apple iPhone", "Apple Inc."}, {"keyboard", "USB Keyboard", "Logitech"},
}
