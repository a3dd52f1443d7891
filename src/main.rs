fn main() {
    coachboard::start();
}
