//go:build race

package newcomer

// raceDetector is on: TestNewcomerPath runs once, without it, as the
// programs it checks run in processes of their own.
const raceDetector = true
